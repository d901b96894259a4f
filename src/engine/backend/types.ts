// Types that cross the backend folder's boundary.

/** Names accepted by `--backend`, in the order tried when none is requested. */
export const BACKEND_ORDER = ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'] as const;

export type BackendName = (typeof BACKEND_ORDER)[number];

/** What `initBackend` chose. */
export interface BackendInfo {
  /** One of BACKEND_ORDER. */
  name: string;
  /** Threads the backend's kernels really use (OpenBLAS pool, XNNPACK pool, 1 for pure JS). */
  threads: number;
  /** Set when a preferred backend was skipped: said once by the caller, e.g.
   * "native backend unavailable (OpenBLAS addon not built: …); using wasm". */
  fallbackNote: string | null;
}

/** One line of `listBackends()`. */
export interface BackendStatus {
  name: BackendName;
  available: boolean;
  /** Why not, when unavailable. */
  reason?: string;
  /** True when the backend is an optional package that simply is not installed
   * (normal: not worth a fallback note). */
  notInstalled?: boolean;
  threads?: number;
  /** Extra facts worth printing (e.g. the BLAS library in use). */
  detail?: string;
}
