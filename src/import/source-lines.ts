// Line numbers of values in a YAML or JSON text (JSON is YAML), for errors that name a JSON path.
import { LineCounter, parseDocument, type Document } from 'yaml';

export class SourceLines {
  private readonly counter = new LineCounter();
  readonly doc: Document;

  constructor(text: string) {
    this.doc = parseDocument(text, { lineCounter: this.counter, uniqueKeys: false, keepSourceTokens: false });
  }

  /** 1-based line where the value at `path` starts; the nearest parent that exists when it does not. */
  lineOf(path: ReadonlyArray<PropertyKey>): number | undefined {
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return this.counter.linePos(node.range[0]).line;
    }
    return undefined;
  }
}
