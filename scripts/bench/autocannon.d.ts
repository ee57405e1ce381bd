// The slice of autocannon 9's programmatic API that scripts/bench.ts uses (it ships no types).
declare module "autocannon" {
  export interface Histogram {
    average: number;
    p50: number;
    p99: number;
    /** For `requests`: completed requests over the whole run. */
    total: number;
  }
  export interface RequestSpec {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  }
  export interface Request extends RequestSpec {
    /** Called before every request; the returned spec is what is sent. */
    setupRequest?: (request: RequestSpec, context: Record<string, unknown>) => RequestSpec;
    /** Called with every response (headers by their names as sent); autocannon then keeps the body. */
    onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string | string[]>) => void;
  }
  export interface Options extends RequestSpec {
    url: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Seconds. */
    timeout?: number;
    requests?: Request[];
  }
  export interface Result {
    requests: Histogram;
    latency: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    statusCodeStats: Record<string, { count: number }>;
  }
  export default function autocannon(options: Options): Promise<Result>;
}
