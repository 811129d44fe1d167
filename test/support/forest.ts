/**
 * A branching forest of images for snapshot tests: groups of images share their lower layers, so removal
 * order matters and containerd's GC races the cleanup exactly as on a real node.
 */
import type { Bed, GeneratedImage } from '../bed/index.js';
import { generateImage } from '../bed/index.js';

export interface ForestSpec {
  images: number;
  layers: number;
  /** Tag to keep image names apart between scenarios. */
  tag?: string;
}

/** Every third image stands alone; the others share 2 to 4 lower layers within groups of five. */
export async function generateForest(spec: ForestSpec, dir: string): Promise<GeneratedImage[]> {
  const images: GeneratedImage[] = [];
  for (let i = 0; i < spec.images; i++) {
    const group = Math.floor(i / 5);
    const shared =
      i % 3 === 2 ? undefined : { seed: `base-${group}`, count: Math.min(spec.layers - 1, 2 + (group % 3)) };
    images.push(
      await generateImage(
        {
          name: `test/forest-${i}:${spec.tag ?? 'v1'}`,
          layers: spec.layers,
          seed: `forest-${i}`,
          sharedLowerLayers: shared,
        },
        dir,
      ),
    );
  }
  return images;
}

/** Every distinct chain ID of the forest: the committed snapshot keys containerd creates when unpacking. */
export function forestKeys(images: GeneratedImage[]): string[] {
  return [...new Set(images.flatMap((i) => i.chainIds))].sort();
}

export async function importForest(
  bed: Bed,
  images: GeneratedImage[],
  options: { namespace?: string; snapshotter?: string } = {},
): Promise<void> {
  for (const image of images) await bed.importImage(image, options);
}
