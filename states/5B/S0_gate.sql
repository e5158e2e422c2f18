-- step: seal
create table s0_gate_receipt_5B as from s0_gate_receipt('5B');
create table sealed_inputs_5B as from sealed_files();
