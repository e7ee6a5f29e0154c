// Kubernetes' rules for object names, label keys and values and annotation keys, as the API server
// applies them (k8s.io/apimachinery validation). Each check returns the problems in words, empty
// when the value is valid, so a caller can name the field and add a fix. Pure.

export const DNS1123_LABEL_MAX = 63;
export const DNS1123_SUBDOMAIN_MAX = 253;
export const DNS1035_LABEL_MAX = 63;
export const QUALIFIED_NAME_MAX = 63;
export const LABEL_VALUE_MAX = 63;
/** The API server's limit on the summed size of an object's annotation keys and values. */
export const ANNOTATIONS_TOTAL_MAX_BYTES = 256 * 1024;

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL}$`);
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_LABEL}(\\.${DNS1123_LABEL})*$`);
const DNS1035_LABEL_RE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
// The name part of a qualified name, and a non-empty label value.
const QUALIFIED_PART_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const tooLong = (value: string, max: number): string[] => (value.length > max ? [`must be no more than ${max} characters, has ${value.length}`] : []);

/** Namespace names, and the names of some kinds (Services use the stricter DNS-1035 label). */
export function dns1123Label(value: string): string[] {
  const problems = tooLong(value, DNS1123_LABEL_MAX);
  if (!DNS1123_LABEL_RE.test(value)) {
    problems.push("must be a lowercase RFC 1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. my-name)");
  }
  return problems;
}

/** metadata.name of most kinds, including Rollouts and the analysis kinds. */
export function dns1123Subdomain(value: string): string[] {
  const problems = tooLong(value, DNS1123_SUBDOMAIN_MAX);
  if (!DNS1123_SUBDOMAIN_RE.test(value)) {
    problems.push("must be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. web or web.v2)");
  }
  return problems;
}

/** Service names: a DNS label that starts with a letter. */
export function dns1035Label(value: string): string[] {
  const problems = tooLong(value, DNS1035_LABEL_MAX);
  if (!DNS1035_LABEL_RE.test(value)) {
    problems.push("must be an RFC 1035 label: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. web-stable)");
  }
  return problems;
}

/** Label keys and annotation keys: `[prefix/]name`, the prefix a DNS subdomain. */
export function qualifiedName(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) return ["must be a name with at most one '/' (an optional DNS subdomain prefix, then the name), e.g. app.example.com/tier"];
  const [prefix, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [undefined, parts[0]!];
  const problems: string[] = [];
  if (prefix !== undefined) {
    if (prefix === '') problems.push("has an empty prefix before '/'");
    else problems.push(...dns1123Subdomain(prefix).map((p) => `prefix ${JSON.stringify(prefix)} ${p}`));
  }
  if (name === '') problems.push('has an empty name part');
  else {
    problems.push(...tooLong(name, QUALIFIED_NAME_MAX).map((p) => `name part ${p}`));
    if (!QUALIFIED_PART_RE.test(name)) {
      problems.push(`name part ${JSON.stringify(name)} must be letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. app or app.kubernetes.io/name)`);
    }
  }
  return problems;
}

/** Label values: empty, or up to 63 letters, digits, '-', '_' and '.', alphanumeric at both ends. */
export function labelValue(value: string): string[] {
  if (value === '') return [];
  const problems = tooLong(value, LABEL_VALUE_MAX);
  if (!QUALIFIED_PART_RE.test(value)) problems.push("must be empty or letters, digits, '-', '_' and '.', starting and ending with a letter or digit (e.g. v1.2.3)");
  return problems;
}

/** Summed bytes of annotation keys and values, which the API server caps. */
export function annotationsSize(annotations: Record<string, string>): string[] {
  let bytes = 0;
  for (const [k, v] of Object.entries(annotations)) bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  return bytes > ANNOTATIONS_TOTAL_MAX_BYTES ? [`annotations total ${bytes} bytes, more than the ${ANNOTATIONS_TOTAL_MAX_BYTES} the API server accepts`] : [];
}

export type NameRule = 'subdomain' | 'label' | 'dns1035';

const NAME_RULES: Record<NameRule, (value: string) => string[]> = { subdomain: dns1123Subdomain, label: dns1123Label, dns1035: dns1035Label };

/** The name check of a rule: DNS-1123 subdomain, DNS-1123 label or DNS-1035 label. */
export function checkName(value: string, rule: NameRule): string[] {
  return NAME_RULES[rule](value);
}

/**
 * A valid name close to one that is not (lowercased, other characters turned into '-', cut to
 * length, trimmed), for a fix to suggest; undefined when nothing usable is left.
 */
export function suggestName(value: string, rule: NameRule = 'subdomain'): string | undefined {
  const max = rule === 'subdomain' ? DNS1123_SUBDOMAIN_MAX : DNS1123_LABEL_MAX;
  let cleaned = value.toLowerCase().replace(rule === 'subdomain' ? /[^a-z0-9.-]+/g : /[^a-z0-9-]+/g, '-');
  if (rule === 'subdomain') cleaned = cleaned.replace(/\.{2,}/g, '.').replace(/-*\.-*/g, '.');
  if (rule === 'dns1035') cleaned = cleaned.replace(/^[^a-z]+/, '');
  cleaned = cleaned.slice(0, max).replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return cleaned !== '' && checkName(cleaned, rule).length === 0 ? cleaned : undefined;
}

/** A valid label value close to one that is not, for a fix to suggest; undefined when none is left. */
export function suggestLabelValue(value: string): string | undefined {
  const cleaned = value
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, LABEL_VALUE_MAX)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return cleaned !== '' && labelValue(cleaned).length === 0 ? cleaned : undefined;
}
