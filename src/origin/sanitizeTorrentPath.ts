import { artifactPathProblem } from '../commands/artifactPath.ts';

/**
 * A foreign torrent's file path made safe to use as a manifest path: empty, `.` and `..`
 * segments are dropped, backslashes, control characters and drive colons become `_`. The result
 * always passes artifactPathProblem; a path with nothing left becomes `file-<index>`. Names are
 * made unique by suffixing ` (n)`.
 */
export function sanitizeTorrentPaths(paths: readonly string[]): string[] {
  const taken = new Set<string>();
  return paths.map((raw, index) => {
    const segments = raw
      .split('/')
      // eslint-disable-next-line no-control-regex
      .map((segment) => segment.replace(/[\\\u0000-\u001f\u007f:]/g, '_').slice(0, 200))
      .filter((segment) => segment !== '' && segment !== '.' && segment !== '..');
    let path = segments.length === 0 ? `file-${index}` : segments.join('/');
    if (artifactPathProblem(path) !== undefined) path = `file-${index}`;
    for (let n = 2; taken.has(path); n++) path = `${segments.join('/') || `file-${index}`} (${n})`;
    taken.add(path);
    return path;
  });
}
