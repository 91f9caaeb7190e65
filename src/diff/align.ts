// Lines two sequences up (turns of two conversations, replies of two turns) like a text diff does: items
// that are equal are paired in order, and between two such anchors the leftovers of both sides are paired
// one to one (a changed item) with the rest reported as missing (only in A) or added (only in B).
// Small inputs get an exact longest common subsequence; large ones a greedy walk that looks ahead a
// bounded window to resynchronise, so two unrelated 10,000-turn cassettes still align in linear time.

export interface Pair {
  a: number | null;
  b: number | null;
  /** True when the items were found equal (an anchor), false when paired only by position. */
  equal: boolean;
}

/** Up to this many cells (|A|·|B|) the exact LCS is used. */
const LCS_LIMIT = 250_000;
/** How far the greedy walk looks ahead for the next equal pair. */
const WINDOW = 64;

/**
 * `same`: the items are equal (anchors). `pairable`: two leftovers between anchors may be reported as one
 * changed item (default: any two, in order); leftovers that are not paired are missing or added.
 */
export function align<A, B>(a: readonly A[], b: readonly B[], same: (x: A, y: B) => boolean, pairable?: (x: A, y: B) => boolean): Pair[] {
  const anchors = a.length * b.length <= LCS_LIMIT ? lcsAnchors(a, b, same) : greedyAnchors(a, b, same);
  const out: Pair[] = [];
  let i = 0;
  let j = 0;
  const fill = (toI: number, toJ: number) => {
    if (pairable && i < toI && j < toJ && (toI - i) * (toJ - j) <= LCS_LIMIT) {
      // Leftovers pair up where they may (a typing with a typing, a message with a message), in order.
      const gapA = a.slice(i, toI);
      const gapB = b.slice(j, toJ);
      for (const [gi, gj] of lcsAnchors(gapA, gapB, pairable)) {
        while (i < toI && i - (toI - gapA.length) < gi) out.push({ a: i++, b: null, equal: false });
        while (j < toJ && j - (toJ - gapB.length) < gj) out.push({ a: null, b: j++, equal: false });
        out.push({ a: i++, b: j++, equal: false });
      }
    } else {
      while (i < toI && j < toJ) out.push({ a: i++, b: j++, equal: false });
    }
    while (i < toI) out.push({ a: i++, b: null, equal: false });
    while (j < toJ) out.push({ a: null, b: j++, equal: false });
  };
  for (const [ai, bj] of anchors) {
    fill(ai, bj);
    out.push({ a: ai, b: bj, equal: true });
    i = ai + 1;
    j = bj + 1;
  }
  fill(a.length, b.length);
  return out;
}

function lcsAnchors<A, B>(a: readonly A[], b: readonly B[], same: (x: A, y: B) => boolean): Array<[number, number]> {
  const n = a.length;
  const m = b.length;
  // table[i*(m+1)+j] = LCS length of a[i..] and b[j..]
  const table = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * (m + 1) + j] = same(a[i], b[j])
        ? table[(i + 1) * (m + 1) + j + 1] + 1
        : Math.max(table[(i + 1) * (m + 1) + j], table[i * (m + 1) + j + 1]);
    }
  }
  const anchors: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (same(a[i], b[j]) && table[i * (m + 1) + j] === table[(i + 1) * (m + 1) + j + 1] + 1) {
      anchors.push([i, j]);
      i++;
      j++;
    } else if (table[(i + 1) * (m + 1) + j] >= table[i * (m + 1) + j + 1]) {
      i++;
    } else {
      j++;
    }
  }
  return anchors;
}

function greedyAnchors<A, B>(a: readonly A[], b: readonly B[], same: (x: A, y: B) => boolean): Array<[number, number]> {
  const anchors: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (same(a[i], b[j])) {
      anchors.push([i++, j++]);
      continue;
    }
    // The nearest equal pair (i+di, j+dj) with the smallest di+dj inside the window.
    let best: [number, number] | null = null;
    for (let d = 1; d <= WINDOW && !best; d++) {
      for (let di = 0; di <= d; di++) {
        const x = i + di;
        const y = j + d - di;
        if (x < a.length && y < b.length && same(a[x], b[y])) {
          best = [x, y];
          break;
        }
      }
    }
    if (!best) {
      // Nothing resynchronises nearby: the two items are paired by position (align() pairs them).
      i++;
      j++;
      continue;
    }
    anchors.push(best);
    i = best[0] + 1;
    j = best[1] + 1;
  }
  return anchors;
}
