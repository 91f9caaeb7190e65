// Just enough multipart/form-data parsing to compare uploads structurally (docs/protocol.md#attachments):
// boundaries are random per run, so an upload is described by its parts, not its bytes.

export interface Part {
  headers: Record<string, string>;
  name: string | undefined;
  filename: string | undefined;
  contentType: string | undefined;
  body: Buffer;
}

/** The boundary from a Content-Type header, else from the body's first line (`--boundary`). */
export function findBoundary(contentType: string | undefined, body: Buffer): string | undefined {
  const m = contentType ? /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType) : null;
  if (m) return m[1] ?? m[2];
  const firstLineEnd = body.indexOf('\r\n');
  const first = body.subarray(0, firstLineEnd > 0 ? Math.min(firstLineEnd, 200) : Math.min(body.length, 200)).toString('latin1');
  return first.startsWith('--') && first.length > 2 ? first.slice(2).trim() : undefined;
}

export function isMultipart(contentType: string | undefined, body: Buffer): boolean {
  if (contentType) return /^multipart\//i.test(contentType.trim());
  return findBoundary(undefined, body) !== undefined && body.includes('\r\n\r\n');
}

/** The parts of a multipart body; [] when it cannot be parsed. */
export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Part[] = [];
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    let start = pos + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // closing delimiter
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    let end = next;
    if (body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2;
    const chunk = body.subarray(start, end);
    const sep = chunk.indexOf('\r\n\r\n');
    const head = sep >= 0 ? chunk.subarray(0, sep).toString('utf8') : chunk.toString('utf8');
    const headers: Record<string, string> = {};
    for (const line of head.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const disposition = headers['content-disposition'];
    parts.push({
      headers,
      name: dispositionParam(disposition, 'name'),
      filename: dispositionParam(disposition, 'filename'),
      contentType: headers['content-type'],
      body: sep >= 0 ? chunk.subarray(sep + 4) : Buffer.alloc(0),
    });
    pos = next;
  }
  return parts;
}

export function dispositionParam(disposition: string | undefined, param: string): string | undefined {
  if (!disposition) return undefined;
  const re = new RegExp(`(?:^|;)\\s*${param}\\s*=\\s*(?:"([^"]*)"|([^;]*))`, 'i');
  const m = re.exec(disposition);
  if (!m) return undefined;
  return (m[1] ?? m[2] ?? '').trim();
}
