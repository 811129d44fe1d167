/** Kubernetes name rules kata-deploy checks before it sends anything (pure). */

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A DNS subdomain (RFC 1123): object names such as a DaemonSet's, label-key prefixes. */
export function isDnsSubdomain(s: string): boolean {
  return s.length <= 253 && s.split('.').every((part) => DNS_LABEL.test(part));
}

/** A label or taint key: `[prefix/]name`, the prefix a DNS subdomain, the name at most 63 characters. */
export function isQualifiedName(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash === -1) return NAME_PART.test(key);
  return isDnsSubdomain(key.slice(0, slash)) && NAME_PART.test(key.slice(slash + 1));
}

/** A label value: empty, or at most 63 characters of `[A-Za-z0-9._-]` starting and ending alphanumeric. */
export function isLabelValue(value: string): boolean {
  return value === '' || NAME_PART.test(value);
}
