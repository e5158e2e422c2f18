-- step: seal
create table s0_gate_receipt_6B as from s0_gate_receipt('6B');
create table sealed_inputs_6B as from sealed_files();
-- the currency reference, typed; every currency of 1A's countries must be in it (checked by 6B.S2)
create table currencies_6B as
select currency::VARCHAR as currency, minor_exponent::INTEGER as minor_exponent, units_per_usd::DOUBLE as units_per_usd from currencies_csv;
