// Files an imported conversation attaches (images, Adaptive Card JSON), read from beside the imported
// file, and the content types Bot Framework gives them.
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { ImportError, jsonErrorLine, type ImportPlace } from './import-error.js';

export const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';

/** Chatdown's content type shorthands (`[Attachment=card.json adaptivecard]`). */
export const CARD_SHORTHANDS: Record<string, string> = {
  adaptivecard: ADAPTIVE_CARD,
  animation: 'application/vnd.microsoft.card.animation',
  audio: 'application/vnd.microsoft.card.audio',
  hero: 'application/vnd.microsoft.card.hero',
  herocard: 'application/vnd.microsoft.card.hero',
  receipt: 'application/vnd.microsoft.card.receipt',
  thumbnail: 'application/vnd.microsoft.card.thumbnail',
  thumbnailcard: 'application/vnd.microsoft.card.thumbnail',
  signin: 'application/vnd.microsoft.card.signin',
  oauth: 'application/vnd.microsoft.card.oauth',
  media: 'application/vnd.microsoft.card.media',
  video: 'application/vnd.microsoft.card.video',
};

const BY_EXTENSION: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.bmp': 'image/bmp',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.html': 'text/html',
  '.pdf': 'application/pdf',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.csv': 'text/csv',
  '.zip': 'application/zip',
};

/** Content type of a file name by its extension; undefined when the extension says nothing. */
export function contentTypeOfName(name: string): string | undefined {
  return BY_EXTENSION[extname(name).toLowerCase()];
}

export function isCardType(contentType: string): boolean {
  return contentType.startsWith('application/vnd.microsoft.card.');
}

export function isRemote(ref: string): boolean {
  return /^https?:\/\//i.test(ref) || /^data:/i.test(ref);
}

/** Reads the bytes of a file named relative to the imported file. */
export function readBeside(importedFile: string, ref: string, place: ImportPlace): { bytes: Buffer; path: string; name: string } {
  const path = isAbsolute(ref) ? ref : resolve(dirname(importedFile), ref);
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new ImportError(
      importedFile,
      `attachment file ${JSON.stringify(ref)} not found (looked for ${path}); expected a file beside ${basename(importedFile)}`,
      place,
    );
  }
  if (!isFile) throw new ImportError(importedFile, `attachment ${JSON.stringify(ref)} is not a file (${path})`, place);
  return { bytes: readFileSync(path), path, name: basename(path) };
}

/** Reads a card (or any JSON) file beside the imported file. */
export function readJsonBeside(importedFile: string, ref: string, place: ImportPlace): unknown {
  const { bytes, path } = readBeside(importedFile, ref, place);
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    const line = jsonErrorLine(text, err as Error);
    throw new ImportError(
      importedFile,
      `${ref} is not valid JSON (${path}${line !== undefined ? `, line ${line}` : ''}: ${(err as Error).message})`,
      place,
    );
  }
}
