-- step: seal
create table s0_gate_receipt_5A as from s0_gate_receipt('5A');
create table sealed_inputs_5A as from sealed_files();
