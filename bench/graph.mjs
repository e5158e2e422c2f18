// The shape of the synthetic bench pipelines, shared by gen-pipeline.mjs (dag) and peers.mjs
// (make, Snakemake): a long chain, hubs that fan out, and states that fan in.

/** The name of state i: s0000, s0001, ... */
export const id = (i) => `s${String(i).padStart(4, '0')}`;

/** Upstream states of state i: the chain, a hub every 10, a fan-in every 25. */
export function upstreams(i) {
  const up = new Set();
  if (i > 0) up.add(i - 1);
  if (i % 10 !== 0) up.add(Math.floor(i / 10) * 10); // each hub fans out to the next 9 states
  if (i % 25 === 0) for (let k = 2; k <= 6 && i - k * 3 >= 0; k++) up.add(i - k * 3);
  up.delete(i);
  return [...up].filter((u) => u < i).sort((a, b) => a - b);
}
