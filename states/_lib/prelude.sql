-- Pseudo-random functions of keys: splitmix64 over UBIGINT, multiply/add modulo 2^64 via UHUGEINT.
create or replace macro mul64(a, b) as ((a::UHUGEINT * b::UHUGEINT) & 18446744073709551615::UHUGEINT)::UBIGINT;
create or replace macro add64(a, b) as ((a::UHUGEINT + b::UHUGEINT) & 18446744073709551615::UHUGEINT)::UBIGINT;
create or replace macro sm_mix1(z) as mul64(xor(z, z >> 30), 13787848793156543929::UBIGINT);
create or replace macro sm_mix2(z) as mul64(xor(z, z >> 27), 10723151780598845931::UBIGINT);
create or replace macro splitmix64(x) as xor(sm_mix2(sm_mix1(add64(x, 11400714819323198485::UBIGINT))), sm_mix2(sm_mix1(add64(x, 11400714819323198485::UBIGINT))) >> 31);
create or replace macro prf(k, i) as splitmix64(xor(k::UBIGINT, splitmix64(i::UBIGINT)));
create or replace macro u01(x) as ((x >> 11)::DOUBLE + 0.5) / 9007199254740992.0;
