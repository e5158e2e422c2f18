-- step: seal
create table s0_gate_receipt_6A as from s0_gate_receipt('6A');
create table sealed_inputs_6A as from sealed_files();
