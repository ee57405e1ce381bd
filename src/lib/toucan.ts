// The one thing Tend takes from toucan-js, loaded with the first error report (src/lib/error-reporter.ts).
// Imported through this module, not as `import("toucan-js")`, so the bundle keeps only what Toucan needs.
export { Toucan } from "toucan-js";
