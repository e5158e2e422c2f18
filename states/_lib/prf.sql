-- PRF prelude: randomness as a pure function of keys (ENGINE.md, "Laws").
-- Every draw is splitmix64 over UBIGINT keys: the orchestrator's stream_key mixed with entity keys.
-- Multiply and add are taken modulo 2^64 through UHUGEINT. Never random(), hash(), the run id or
-- thread count. states/_lib/prf.ts is the TypeScript reference; test/states/prf.test.ts checks
-- these macros against it bit for bit on golden vectors.

create or replace macro mul64(a, b) as ((a::UHUGEINT * b::UHUGEINT) & 18446744073709551615::UHUGEINT)::UBIGINT;
create or replace macro add64(a, b) as ((a::UHUGEINT + b::UHUGEINT) & 18446744073709551615::UHUGEINT)::UBIGINT;

-- A macro argument used twice is expanded twice, and nesting makes that exponential; so a value
-- needed more than once is bound once with a one-item lambda: let(v, x -> body) = body[x := v].
-- SplitMix64: the output for state x (state advanced by the golden gamma, then finalised).
create or replace macro splitmix64(x) as
  list_transform([add64(x::UBIGINT, 11400714819323198485::UBIGINT)], z ->
  list_transform([mul64(xor(z, z >> 30), 13787848793156543929::UBIGINT)], z1 ->
  list_transform([mul64(xor(z1, z1 >> 27), 10723151780598845931::UBIGINT)], z2 ->
  xor(z2, z2 >> 31))[1])[1])[1];

-- Key mixing: mix64(k, a) draws entity a from stream k; prf2/prf3 chain further keys.
create or replace macro mix64(k, a) as splitmix64(xor(k::UBIGINT, splitmix64(a::UBIGINT)));
create or replace macro prf2(k, a, b) as mix64(mix64(k, a), b);
create or replace macro prf3(k, a, b, c) as mix64(mix64(mix64(k, a), b), c);
-- Text keys (codes, labels) as uint64: the low 64 bits of their MD5, little-endian.
create or replace macro key_of(s) as md5_number_lower(s::VARCHAR);

-- Portable transcendental functions: built from +, -, *, /, sqrt, floor and exact powers of two
-- only (IEEE-754 gives those one answer everywhere), so draws do not depend on the platform's
-- libm, and the TypeScript reference reproduces them bit for bit. Polynomials are Horner forms of
-- Taylor series on reduced arguments; accuracy is within a few ulp.
-- pexp(x): x = k ln2 + r, |r| <= ln2/2 (Cody-Waite split of ln2), exp(r) to degree 13.
create or replace macro pexp(x) as list_transform([x::DOUBLE], a ->
  list_transform([floor(a * 1.4426950408889634e0 + 0.5e0)], k ->
  list_transform([(a - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10], r ->
  (1e0 + r * ((1e0 / 1e0) + r * ((1e0 / 2e0) + r * ((1e0 / 6e0) + r * ((1e0 / 24e0) + r * ((1e0 / 120e0) + r * ((1e0 / 720e0) + r * ((1e0 / 5040e0) + r * ((1e0 / 40320e0) + r * ((1e0 / 362880e0) + r * ((1e0 / 3628800e0) + r * ((1e0 / 39916800e0) + r * ((1e0 / 479001600e0) + r * ((1e0 / 6227020800e0))))))))))))))) * pow(2e0, k))[1])[1])[1];
-- pln(x), x > 0: x = 2^e m with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh((m-1)/(m+1)) to s^23.
-- floor(log2(x)) only guesses e; the two corrections make (e, m) exact whatever log2 returns.
create or replace macro pln_em(x) as list_transform([{'x': x::DOUBLE, 'e': floor(log2(x::DOUBLE))}], g ->
  list_transform([CASE WHEN g.x / pow(2e0, g.e) >= 2e0 THEN g.e + 1e0 WHEN g.x / pow(2e0, g.e) < 1e0 THEN g.e - 1e0 ELSE g.e END], e ->
  CASE WHEN g.x / pow(2e0, e) > 1.4142135623730951e0 THEN {'e': e + 1e0, 'm': g.x / pow(2e0, e + 1e0)} ELSE {'e': e, 'm': g.x / pow(2e0, e)} END)[1])[1];
create or replace macro pln(x) as list_transform([pln_em(x)], em ->
  list_transform([(em.m - 1e0) / (em.m + 1e0)], s ->
  list_transform([s * s], z ->
  em.e * 6.93147180369123816490e-01 + (2e0 * s * ((1e0 / 1e0) + z * ((1e0 / 3e0) + z * ((1e0 / 5e0) + z * ((1e0 / 7e0) + z * ((1e0 / 9e0) + z * ((1e0 / 11e0) + z * ((1e0 / 13e0) + z * ((1e0 / 15e0) + z * ((1e0 / 17e0) + z * ((1e0 / 19e0) + z * ((1e0 / 21e0) + z * ((1e0 / 23e0))))))))))))) + em.e * 1.90821492927058770002e-10))[1])[1])[1];
-- pcos2pi(u) = cos(2 pi u), u in [0, 1): folded into [0, 1/8] by exact steps, then a cosine or
-- sine series of t = 2 pi w, |t| <= pi/4.
create or replace macro pcos_t(t) as list_transform([t * t], t2 -> (1e0 / 1e0) + t2 * ((-1e0 / 2e0) + t2 * ((1e0 / 24e0) + t2 * ((-1e0 / 720e0) + t2 * ((1e0 / 40320e0) + t2 * ((-1e0 / 3628800e0) + t2 * ((1e0 / 479001600e0) + t2 * ((-1e0 / 87178291200e0) + t2 * ((1e0 / 20922789888000e0) + t2 * ((-1e0 / 6402373705728000e0)))))))))))[1];
create or replace macro psin_t(t) as list_transform([t * t], t2 -> t * ((1e0 / 1e0) + t2 * ((-1e0 / 6e0) + t2 * ((1e0 / 120e0) + t2 * ((-1e0 / 5040e0) + t2 * ((1e0 / 362880e0) + t2 * ((-1e0 / 39916800e0) + t2 * ((1e0 / 6227020800e0) + t2 * ((-1e0 / 1307674368000e0) + t2 * ((1e0 / 355687428096000e0) + t2 * ((-1e0 / 121645100408832000e0))))))))))))[1];
create or replace macro pcos_q(w) as CASE WHEN w <= 0.125e0 THEN pcos_t(w * 6.283185307179586e0) ELSE psin_t((0.25e0 - w) * 6.283185307179586e0) END;
create or replace macro pcos2pi(u) as list_transform([CASE WHEN u::DOUBLE <= 0.5e0 THEN u::DOUBLE ELSE 1e0 - u::DOUBLE END], w ->
  CASE WHEN w <= 0.25e0 THEN pcos_q(w) ELSE -pcos_q(0.5e0 - w) END)[1];

-- Uniform in (0, 1): the top 53 bits, centred: exact in binary64.
create or replace macro u01(x) as ((x::UBIGINT >> 11)::DOUBLE + 0.5e0) / 9007199254740992e0;

-- Standard normal by Box-Muller; the second uniform comes from splitmix64(x).
create or replace macro draw_normal(x) as list_transform([x::UBIGINT], v -> sqrt(-2e0 * pln(u01(v))) * pcos2pi(u01(splitmix64(v))))[1];
create or replace macro draw_lognormal(x, mu, sigma) as pexp(mu + sigma * draw_normal(x));

-- Poisson by exact inversion of the CDF (terms p_k = p_{k-1} * lam / k), capped at
-- lam + 12 sqrt(lam) + 25; lam <= 0 gives 0.
create or replace macro poisson_inv(u, lam) as list_transform([{'u': u::DOUBLE, 'lam': lam::DOUBLE}], a ->
  list_reduce(
    list_transform(range(1, floor(a.lam + 12 * sqrt(a.lam) + 25)::BIGINT), j -> {'k': j::BIGINT, 'p': j::DOUBLE, 'f': 0.0::DOUBLE}),
    (acc, x) -> CASE WHEN a.u <= acc.f THEN acc ELSE {'k': x.k, 'p': acc.p * a.lam / x.p, 'f': acc.f + acc.p * a.lam / x.p} END,
    {'k': 0::BIGINT, 'p': pexp(-a.lam), 'f': pexp(-a.lam)}
  ).k)[1];
-- Above lam_normal the normal approximation floor(lam + sqrt(lam) z + 0.5), clipped at 0.
create or replace macro draw_poisson(x, lam, lam_normal := 400.0) as list_transform([{'x': x::UBIGINT, 'lam': lam::DOUBLE}], a -> CASE
  WHEN a.lam <= 0 THEN 0::BIGINT
  WHEN a.lam > lam_normal THEN greatest(0, floor(a.lam + sqrt(a.lam) * draw_normal(a.x) + 0.5))::BIGINT
  ELSE poisson_inv(u01(a.x), a.lam) END)[1];

-- Many draws with one lambda: its CDF F_0..F_{cap-1} once (the same terms, in the same order, as
-- poisson_inv), then poisson_from_cdf(cdf, u) = the smallest k with u <= F_k, capped the same way:
-- equal to poisson_inv(u, lam) bit for bit, at the cost of a list filter per draw.
create or replace macro poisson_cdf(lam) as list_transform([lam::DOUBLE], l ->
  list_reduce(
    list_transform(range(1, floor(l + 12 * sqrt(l) + 25)::BIGINT), j -> {'p': j::DOUBLE, 'f': [0e0]}),
    (acc, x) -> {'p': acc.p * l / x.p, 'f': list_append(acc.f, acc.f[-1] + acc.p * l / x.p)},
    {'p': pexp(-l), 'f': [pexp(-l)]}
  ).f)[1];
create or replace macro poisson_from_cdf(cdf, u) as list_transform([{'c': cdf, 'u': u::DOUBLE}], a ->
  least(len(a.c) - 1, len(list_filter(a.c, f -> f < a.u))))[1];
-- draw_poisson with a precomputed CDF for lam (NULL when lam is above lam_normal or <= 0).
create or replace macro poisson_table(lam, lam_normal := 400.0) as CASE WHEN lam > 0 AND lam <= lam_normal THEN poisson_cdf(lam) END;
create or replace macro draw_poisson_cdf(x, lam, cdf) as CASE WHEN cdf IS NULL THEN draw_poisson(x, lam) ELSE poisson_from_cdf(cdf, u01(x)) END;

-- Categorical pick: 1-based index of the cell whose cumulative weight first exceeds u * total.
-- cumw is the running sum of the weights in a fixed, documented order (its last item is the total).
create or replace macro pick_index(cumw, u) as list_transform([{'w': cumw, 'u': u::DOUBLE}], a -> least(len(a.w), len(list_filter(a.w, c -> c <= a.u * a.w[-1])) + 1))[1];

-- Standard normal by inversion, norm_inv(u) for u in (0, 1) (P. J. Acklam's rational approximation,
-- relative error below 1.2e-9): the central region is pure rational arithmetic, only the tails
-- (u < 0.02425 or u > 0.97575) take a logarithm, so it is several times cheaper than draw_normal.
-- draw_normal_fast(x) = norm_inv(u01(x)): one 64-bit draw per normal.
-- (u01 of the largest keys rounds to 1.0, so the upper tail's 1 - p can be 0: floored at 1e-300.)
create or replace macro norm_inv_tail(q) as list_transform([sqrt(-2e0 * pln(greatest(q::DOUBLE, 1e-300)))], t ->
  (((((-7.784894002430293e-03 * t - 3.223964580411365e-01) * t - 2.400758277161838e+00) * t - 2.549732539343734e+00) * t + 4.374664141464968e+00) * t + 2.938163982698783e+00)
  / ((((7.784695709041462e-03 * t + 3.224671290700398e-01) * t + 2.445134137142996e+00) * t + 3.754408661907416e+00) * t + 1e0))[1];
create or replace macro norm_inv(u) as list_transform([u::DOUBLE], p -> CASE
  WHEN p < 0.02425e0 THEN norm_inv_tail(p)
  WHEN p > 0.97575e0 THEN -norm_inv_tail(1e0 - p)
  ELSE list_transform([p - 0.5e0], q -> list_transform([q * q], r ->
    (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q
    / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1e0))[1])[1] END)[1];
create or replace macro draw_normal_fast(x) as norm_inv(u01(x));

-- splitmix_table(t): every row of table (or view) t with sm_in replaced by sm_out = splitmix64(sm_in),
-- evaluated in stages, one per projection: the nested macro binds its intermediate values through
-- one-item lists, which costs about twice as much per value over a hundred million rows
-- (bench/RESULTS.md). Equal to splitmix64() bit for bit (test/states/prf.test.ts).
create or replace macro splitmix_table(t) as table
with z0 as (select * exclude (sm_in), add64(sm_in, 11400714819323198485::UBIGINT) as sm_z from query_table(t)),
z1 as (select * replace (mul64(xor(sm_z, sm_z >> 30), 13787848793156543929::UBIGINT) as sm_z) from z0),
z2 as (select * replace (mul64(xor(sm_z, sm_z >> 27), 10723151780598845931::UBIGINT) as sm_z) from z1)
select * exclude (sm_z), xor(sm_z, sm_z >> 31) as sm_out from z2;

-- Counter draws: the j-th draw of key k is draw_at(k, j) = mix64(c, j & 1023) with chunk key c = k
-- for j < 1024 and mix64(k, j >> 10) above: one mix per draw, and a chunk key only for the rare key
-- with more than 1024 draws. counter_draws(t) expands every row of table t (columns draw_key
-- UBIGINT and draw_n BIGINT, and any others) into draw_n rows with draw_j = 0..draw_n-1 and
-- draw_x = draw_at(draw_key, draw_j) (draw_key and draw_n are dropped): the splitmix64 in stages,
-- with splitmix64(j & 1023) from a 1024-item list (a list, not a join: a join would make DuckDB
-- estimate the expansion at a few rows and build hash tables on it downstream).
create or replace macro draw_at(k, j) as mix64(CASE WHEN j::UBIGINT < 1024 THEN k::UBIGINT ELSE mix64(k, j::UBIGINT >> 10) END, j::UBIGINT & 1023::UBIGINT);
create or replace macro counter_draws(t) as table
with chunks as (
  select * exclude (draw_key, draw_n), CASE WHEN draw_chunk = 0 THEN draw_key ELSE mix64(draw_key, draw_chunk::UBIGINT) END as draw_chunk_key,
         least(1024, draw_n - draw_chunk * 1024)::INTEGER as draw_len
  from (select *, unnest(range((draw_n + 1023) // 1024)) as draw_chunk from query_table(t) where draw_n > 0)
), each_ as (
  select * exclude (draw_len), unnest(range(draw_len))::INTEGER as draw_low from chunks
), z0 as (
  select e.* exclude (draw_chunk_key, draw_low, draw_chunk), e.draw_chunk * 1024 + e.draw_low as draw_j,
         add64(xor(e.draw_chunk_key, (select list(splitmix64(range::UBIGINT) order by range) from range(1024))[e.draw_low + 1]), 11400714819323198485::UBIGINT) as draw_z
  from each_ e
), z1 as (
  select * replace (mul64(xor(draw_z, draw_z >> 30), 13787848793156543929::UBIGINT) as draw_z) from z0
), z2 as (
  select * replace (mul64(xor(draw_z, draw_z >> 27), 10723151780598845931::UBIGINT) as draw_z) from z1
)
select * exclude (draw_z), xor(draw_z, draw_z >> 31) as draw_x from z2;
