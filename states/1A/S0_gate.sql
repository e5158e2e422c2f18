-- step: seal
create table s0_gate_receipt_1A as from s0_gate_receipt('1A');
create table sealed_inputs_1A as from sealed_files();

-- step: reference
create table countries_1A as
select country_iso, region, currency, tz_primary, tz_secondary, size_weight from countries_csv;
create table mcc_1A as
select mcc, demand_class, cnp_share, virtual_propensity from mcc_csv;
