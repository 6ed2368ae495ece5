/**
 * What the process is still loading, for `GET /readyz`: ready once every component it was told
 * about is loaded. `createEngines` reports progress through `onProgress`; `undertone serve` feeds
 * it into one `Readiness`.
 */

export type ComponentState = 'loading' | 'ready' | 'failed';

/** One step of engine loading. */
export interface LoadProgress {
  /** `vad`, `asr`, `llm`, `tts`, ... */
  component: string;
  state: ComponentState;
  /** Model name or path, or the failure message. */
  detail?: string;
}

export interface ReadinessSnapshot {
  ready: boolean;
  components: Record<string, { state: ComponentState; detail?: string }>;
  /** Components still loading. */
  loading: string[];
  failed: string[];
}

export class Readiness {
  private readonly components = new Map<string, { state: ComponentState; detail?: string }>();
  private done = false;

  /** Records one step; pass as `onProgress` to `createEngines`. */
  readonly report = (progress: LoadProgress): void => {
    this.components.set(progress.component, { state: progress.state, detail: progress.detail });
  };

  /** Marks loading finished: with every component ready, the process is ready. */
  markLoaded(): void {
    this.done = true;
  }

  snapshot(): ReadinessSnapshot {
    const entries = [...this.components.entries()];
    const loading = entries.filter(([, c]) => c.state === 'loading').map(([name]) => name);
    const failed = entries.filter(([, c]) => c.state === 'failed').map(([name]) => name);
    return {
      ready: this.done && loading.length === 0 && failed.length === 0,
      components: Object.fromEntries(entries),
      loading,
      failed,
    };
  }
}
