/** Numbers in messages and reports: thousands separated the same way everywhere ("20,725 MiB"). */
export function formatNumber(n: number): string {
  return n.toLocaleString("en-US");
}
