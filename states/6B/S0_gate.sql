-- step: seal
create table s0_gate_receipt_6B as from s0_gate_receipt('6B');
create table sealed_inputs_6B as from sealed_files();
