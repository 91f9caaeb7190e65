// Listeners of what the recorder captures: each event as it is handed to the cassette writer, already
// redacted (placeholders, never secrets), with the placeholder table as it stands then. The live
// inspector subscribes here; nothing else in the recorder knows about it.
import type { CassetteEvent } from '../cassette/schema.js';

export type CaptureListener = (event: CassetteEvent, placeholders: Readonly<Record<string, string>>) => void;

export class CaptureTap {
  private readonly listeners = new Set<CaptureListener>();

  /** Calls `listener` for every event captured from now on; returns the unsubscribe function. */
  subscribe(listener: CaptureListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
