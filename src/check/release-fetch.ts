/** Reads the Kata Containers releases from the GitHub API. Never throws: failures become a `ReleaseFetch`. */
import { z } from 'zod';
import { VERSION } from '../version.js';
import type { Release, ReleaseFetch } from './types.js';

const ReleaseEntry = z.object({
  tag_name: z.string(),
  prerelease: z.boolean().optional(),
  draft: z.boolean().optional(),
  html_url: z.string().optional(),
  published_at: z.string().nullable().optional(),
  created_at: z.string().optional(),
});
const ReleaseList = z.array(ReleaseEntry);

/** Turns the API's JSON body into releases; a string says what was wrong with it. */
export function parseReleases(body: unknown): Release[] | string {
  const parsed = ReleaseList.safeParse(body);
  if (!parsed.success) return `unexpected releases data: ${parsed.error.issues[0]?.message ?? 'invalid'}`;
  return parsed.data.map((r) => ({
    tag: r.tag_name,
    prerelease: r.prerelease ?? false,
    draft: r.draft ?? false,
    url: r.html_url ?? '',
    date: r.published_at ?? r.created_at ?? '',
  }));
}

export async function fetchReleases(url: string, timeoutMs: number): Promise<ReleaseFetch> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { Accept: 'application/vnd.github+json', 'User-Agent': `kata-deploy/${VERSION}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return { kind: 'error', message: describeFetchError(error, url, timeoutMs) };
  }
  try {
    const text = await response.text();
    if ((response.status === 403 || response.status === 429) && /rate limit/i.test(text)) {
      return { kind: 'rate-limited' };
    }
    if (!response.ok) return { kind: 'error', message: `${url} answered HTTP ${response.status}` };
    const releases = parseReleases(JSON.parse(text) as unknown);
    return typeof releases === 'string' ? { kind: 'error', message: releases } : { kind: 'ok', releases };
  } catch (error) {
    return { kind: 'error', message: describeFetchError(error, url, timeoutMs) };
  }
}

/** fetch hides the reason in `cause` (ENOTFOUND, ECONNREFUSED); a timeout is a TimeoutError. */
function describeFetchError(error: unknown, url: string, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer from ${url} within ${timeoutMs} ms`;
  }
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return `cannot reach ${url}: ${code ?? (typeof cause?.message === 'string' ? cause.message : message)}`;
}
