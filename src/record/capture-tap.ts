// Listeners of what the recorder captures: each event as it is handed to the cassette writer, already
// redacted (placeholders, never secrets), with the placeholder table as it stands then. The live
// inspector subscribes here; nothing else in the recorder knows about it.
import type { CassetteEvent } from '../cassette/schema.js';

export type CaptureListener = (event: CassetteEvent, placeholders: Readonly<Record<string, string>>) => void;

export class CaptureTap {
  private readonly listeners = new Set<CaptureListener>();

  /** @param onActive told when the first listener comes and when the last one goes (events cost nothing unheard). */
  constructor(private readonly onActive: (active: boolean) => void = () => {}) {}

  /** Calls `listener` for every event captured from now on; returns the unsubscribe function. */
  subscribe(listener: CaptureListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.onActive(true);
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.onActive(false);
    };
  }

  emit(event: CassetteEvent, placeholders: Readonly<Record<string, string>>): void {
    for (const l of this.listeners) {
      try {
        l(event, placeholders);
      } catch {
        // A listener's failure must never cost the recording an event.
      }
    }
  }
}
