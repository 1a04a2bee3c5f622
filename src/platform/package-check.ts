/**
 * Store app packages (contract platform-v1 "The package"): a gzip'd ustar with `manifest.json` at
 * its root. Checked whole in memory before anything is written: a hostile package is refused with
 * `APP_PACKAGE_INVALID` and leaves no trace.
 */
import { gunzipSync } from 'node:zlib';
import { forbiddenCharacter } from '../core/safe-text.js';
import { PosError } from '../errors.js';
import { APP_ID_PATTERN } from './app-id.js';
import { APP_SCOPES, type AppScope } from './scopes.js';
import { readTar } from './tar.js';

export const MAX_UNPACKED_BYTES = 10 * 1024 * 1024;
export const MAX_FILES = 1000;
/** Directories count as entries too; tar headers and padding on top of the file bytes. */
const MAX_ENTRIES = 2 * MAX_FILES;
const MAX_TAR_BYTES = MAX_UNPACKED_BYTES + MAX_ENTRIES * 1024 + 1024;
/** What a package may weigh compressed (the body of POST /api/v1/apps, a download). */
export const MAX_PACKAGE_BYTES = MAX_TAR_BYTES;

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export interface AppManifest {
  id: string;
  name: string;
  version: string;
  entry: string;
  scopes: AppScope[];
}

export interface AppPackage {
  manifest: AppManifest;
  /** Normalised relative path → content; manifest.json included. */
  files: Map<string, Uint8Array>;
}

/** What a cloud command says the package is; a manifest that says otherwise is lying. */
export interface PackageExpectation {
  appId: string;
  version: string;
  scopes: readonly string[];
}

function invalid(message: string): PosError {
  return new PosError('APP_PACKAGE_INVALID', message);
}

/** `{label}` of the app's origin: the id with `.` replaced by `-`. */
export function appLabel(appId: string): string {
  return appId.replaceAll('.', '-');
}

/**
 * A path inside the package, normalised (`./a/b` → `a/b`), or a refusal: absolute paths, `..`,
 * empty or `.` segments, backslashes and control characters are never accepted.
 */
export function packagePath(raw: string): string {
  if (raw === '') throw invalid('an entry has an empty name');
  if (raw.startsWith('/')) throw invalid(`absolute path ${JSON.stringify(raw)}`);
  if (raw.includes('\\')) throw invalid(`backslash in ${JSON.stringify(raw)}`);
  if (forbiddenCharacter(raw) !== undefined) throw invalid('control character in an entry name');
  let path = raw.startsWith('./') ? raw.slice(2) : raw;
  if (path.endsWith('/')) path = path.slice(0, -1);
  if (path === '' || path === '.') return '';
  const segments = path.split('/');
  for (const s of segments) {
    if (s === '..') throw invalid(`'..' in ${JSON.stringify(raw)}`);
    if (s === '' || s === '.') throw invalid(`empty or '.' segment in ${JSON.stringify(raw)}`);
    if (Buffer.byteLength(s) > 255) throw invalid('an entry name segment is over 255 bytes');
  }
  return segments.join('/');
}

function str(v: unknown): v is string {
  return typeof v === 'string';
}

/** The manifest's own rules (id, name, version, entry, scopes). */
export function checkManifest(raw: unknown, files: ReadonlyMap<string, Uint8Array>): AppManifest {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('manifest.json is not an object');
  const m = raw as Record<string, unknown>;
  if (!str(m.id) || m.id.length > 64 || !APP_ID_PATTERN.test(m.id))
    throw invalid('manifest id: must match ^[a-z][a-z0-9-]*(\\.[a-z0-9-]+)+$, at most 64 characters');
  if (!str(m.name) || [...m.name].length < 1 || [...m.name].length > 40 || forbiddenCharacter(m.name))
    throw invalid('manifest name: 1 to 40 characters, no control characters');
  if (!str(m.version) || m.version.length > 64 || !SEMVER.test(m.version))
    throw invalid('manifest version: must be semver');
  if (!str(m.entry)) throw invalid('manifest entry: must name a file');
  const entry = packagePath(m.entry);
  if (!files.has(entry) || entry === 'manifest.json')
    throw invalid(`manifest entry: ${JSON.stringify(m.entry)} is not a file in the package`);
  if (!Array.isArray(m.scopes) || m.scopes.length > APP_SCOPES.length)
    throw invalid('manifest scopes: must be a list of scopes');
  const scopes: AppScope[] = [];
  for (const s of m.scopes) {
    if (!str(s) || !(APP_SCOPES as readonly string[]).includes(s))
      throw invalid(`manifest scopes: unknown scope ${JSON.stringify(s)}`);
    if (scopes.includes(s as AppScope)) throw invalid(`manifest scopes: ${s} twice`);
    scopes.push(s as AppScope);
  }
  return { id: m.id, name: m.name, version: m.version, entry, scopes };
}

/** Unpacks and checks a package; throws APP_PACKAGE_INVALID on the first problem. */
export function checkPackage(gz: Uint8Array, expect?: PackageExpectation): AppPackage {
  if (gz.length > MAX_PACKAGE_BYTES) throw invalid(`package over ${MAX_PACKAGE_BYTES} bytes`);
  let tar: Buffer;
  try {
    tar = gunzipSync(gz, { maxOutputLength: MAX_TAR_BYTES });
  } catch (err) {
    const tooBig = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
    throw invalid(tooBig ? `over ${MAX_UNPACKED_BYTES} bytes unpacked` : 'not a gzip file');
  }
  const entries = readTar(tar, { maxEntries: MAX_ENTRIES, maxBytes: MAX_UNPACKED_BYTES });
  const files = new Map<string, Uint8Array>();
  const dirs = new Set<string>();
  for (const e of entries) {
    if (e.kind !== 'file' && e.kind !== 'directory') {
      throw invalid(`${JSON.stringify(e.path)} is a ${e.kind} (type ${e.typeflag}): only files and folders`);
    }
    const path = packagePath(e.path);
    if (e.kind === 'directory') {
      if (path !== '' && files.has(path)) throw invalid(`${path} is both a file and a folder`);
      if (path !== '') dirs.add(path);
      continue;
    }
    if (path === '') throw invalid('a file entry names the root');
    if (files.has(path) || dirs.has(path)) throw invalid(`${path} appears twice`);
    files.set(path, e.data);
    if (files.size > MAX_FILES) throw invalid(`more than ${MAX_FILES} files`);
  }
  // A file may not also be a folder of another file (a/b and a/b/c).
  for (const path of files.keys()) {
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) {
      if (files.has(segments.slice(0, i).join('/'))) throw invalid(`${path} is inside a file`);
    }
  }
  const manifestBytes = files.get('manifest.json');
  if (!manifestBytes) throw invalid('no manifest.json at the root');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes));
  } catch {
    throw invalid('manifest.json is not UTF-8 JSON');
  }
  const manifest = checkManifest(raw, files);
  if (expect) checkAgainst(manifest, expect);
  return { manifest, files };
}

/** The command names the app; a package that says it is another, or wants other scopes, is refused. */
function checkAgainst(m: AppManifest, expect: PackageExpectation): void {
  if (m.id !== expect.appId) throw invalid(`manifest id ${m.id} is not the command's ${expect.appId}`);
  if (m.version !== expect.version)
    throw invalid(`manifest version ${m.version} is not the command's ${expect.version}`);
  const want = [...new Set(expect.scopes)].sort();
  const have = [...m.scopes].sort();
  if (want.length !== have.length || want.some((s, i) => s !== have[i]))
    throw invalid(`manifest scopes [${have.join(', ')}] are not the granted [${want.join(', ')}]`);
}
