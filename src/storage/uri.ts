/**
 * True when `uri` starts with a URI scheme (`s3:`, `file:`, `https:` ...) rather than being a
 * plain path; a Windows drive (`C:\lake`, `C:/lake`) is a path.
 */
export function hasUriScheme(uri: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(uri) && !/^[a-zA-Z]:[\\/]/.test(uri);
}
