// The bench's floor: the least a Worker can do under `wrangler dev`. Every scenario's CPU per
// request and req/s are also shown as a ratio to this one's (scripts/bench.ts).
export default {
  fetch() {
    return new Response("ok");
  },
};
