/**
 * Names inside an artifact come from S3 keys, directory listings and foreign torrents; none of
 * them may become a path outside the destination. A safe path is relative, uses `/` only, and
 * has no empty, `.` or `..` segment, no NUL or other control character, and no drive letter.
 */
const maxPathBytes = 4096;
const maxSegmentBytes = 255;

export function artifactPathProblem(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (Buffer.byteLength(path, 'utf8') > maxPathBytes) return `is longer than ${maxPathBytes} bytes`;
  if (path.startsWith('/')) return 'is absolute';
  if (path.includes('\\')) return 'contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains a control character';
  if (/^[A-Za-z]:/.test(path)) return 'starts with a drive letter';
  for (const segment of path.split('/')) {
    if (segment === '') return 'has an empty segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
    if (Buffer.byteLength(segment, 'utf8') > maxSegmentBytes) return `has a segment longer than ${maxSegmentBytes} bytes`;
  }
  return undefined;
}

export const isSafeArtifactPath = (path: string): boolean => artifactPathProblem(path) === undefined;
