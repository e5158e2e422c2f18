// Failing-config cases for 6A's realism gates: each case is a plausible bad edit of a policy or
// prior that a consumer would regret, applied to a temp copy of the engine project; the run must
// publish a report in which that gate fails its B band, and exit 1 (a failed gate fails the run).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { expect } from 'vitest';
import { dagRun, engineCopy, type Project } from './engine-helpers.js';

export interface Check {
  id: string;
  kind: string;
  status: string;
  value: number | null;
  pass_B: boolean;
  pass_Bplus: boolean;
}
export interface Report6A {
  verdict: string;
  measured_verdict?: string;
  passed: boolean;
  checks: Check[];
}

export function report6A(runDir: string): Report6A {
  const dir = join(runDir, 'data', 'layer3', '6A', 'validation');
  const [mf] = readdirSync(dir);
  return JSON.parse(readFileSync(join(dir, mf!, 'validation_report_6A.json'), 'utf8')) as Report6A;
}

/** Rewrites a YAML project file through its parsed value (comments are lost: the copy is temporary). */
export function editYaml(p: Project, rel: string, change: (doc: any) => void): void {
  const doc = parse(p.read(rel));
  change(doc);
  p.write(rel, stringify(doc));
}

export interface GateCase {
  gate: string;
  why: string;
  edit(p: Project): void;
  /**
   * Cases of one batch share a run: their edits touch disjoint parts of the config (a different class,
   * IP type, product or role) and each gate measures only its own part, so each still fails for its
   * own edit. A case without one runs alone.
   */
  batch?: string;
}

/** The cases grouped into runs: one group per batch name, and one per case without a batch. */
export function batchesOf<C extends { gate: string; batch?: string }>(cases: C[]): [string, C[]][] {
  const groups = new Map<string, C[]>();
  cases.forEach((c, i) => {
    const key = c.batch ?? `#${i}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  });
  return [...groups.values()].map((g) => [g.map((c) => c.gate).join(' + '), g]);
}

/** One project per file of cases: a first run caches 1A, then each batch of cases edits, runs and restores. */
export function gateProject(): { p: Project; run(c: GateCase | GateCase[]): Promise<Check[]> } {
  const p = engineCopy(['1A', '6A']);
  const pristine = new Map<string, string>();
  const files = ['config/6A/account_priors.yaml', 'config/6A/device_priors.yaml', 'config/6A/fraud_priors.yaml', 'config/6A/instrument_priors.yaml', 'config/6A/party_priors.yaml', 'config/world.yaml'];
  for (const f of files) pristine.set(f, p.read(f));
  return {
    p,
    async run(one) {
      const batch = Array.isArray(one) ? one : [one];
      for (const [f, text] of pristine) p.write(f, text);
      for (const c of batch) c.edit(p);
      const r = await dagRun(p);
      for (const [f, text] of pristine) p.write(f, text);
      const names = batch.map((c) => c.gate).join(' + ');
      expect(r.json, `${names}: no run summary\n${r.stderr}`).toBeDefined();
      const report = report6A(r.json!.run_dir);
      const checks = batch.map((c) => {
        const check = report.checks.find((x) => x.id === c.gate);
        expect(check, `${c.gate} is in the report`).toBeDefined();
        expect(check!.pass_B, `${c.gate} = ${check!.value} should fail B (${c.why})`).toBe(false);
        expect(check!.status, c.gate).toBe('FAIL');
        return check!;
      });
      expect(report.passed).toBe(false);
      expect(r.code).toBe(1);
      return checks;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The cases: holdings, devices and IPs

const REGIONS = ['EU', 'NA', 'LA', 'AP', 'ME', 'AF'];
export const structureCases: GateCase[] = [
  {
    gate: 'T1_accounts_unplaced',
    batch: 'accounts-anonymizers-carriers',
    why: 'mass-market parties expected to hold 4.5 current accounts under a cap of 3',
    edit: (p) => editYaml(p, 'config/6A/account_priors.yaml', (d) => (d.lambda.MASS.CURRENT = 4.5)),
  },
  {
    gate: 'T2_cap_pileup_ratio',
    batch: 'accounts-anonymizers-carriers',
    why: 'a credit-card cap of 2 under affluent parties who average 2.6 cards: counts pile up at the cap',
    edit: (p) => editYaml(p, 'config/6A/account_priors.yaml', (d) => (d.K_max.RETAIL.CREDIT_CARD = 2)),
  },
  {
    gate: 'T3_ip_link_mix_max_abs_error_pp',
    batch: 'accounts-anonymizers-carriers',
    why: '90 % of EU devices behind a VPN',
    edit: (p) => editYaml(p, 'config/6A/device_priors.yaml', (d) => (d.ips.anonymizer_share.EU = 0.9)),
  },
  {
    gate: 'T4_online_devices_linked_share',
    batch: 'lines-popularity-cards',
    why: 'a quarter of homes with a line and no tethering: desktops and tablets stay offline',
    edit: (p) =>
      editYaml(p, 'config/6A/device_priors.yaml', (d) => {
        for (const r of REGIONS) d.households.broadband_share[r] = 0.25;
        d.ips.tether_share = { DESKTOP: 0, TABLET: 0 };
      }),
  },
  {
    gate: 'T5_devices_per_ip_p99',
    batch: 'accounts-anonymizers-carriers',
    why: 'one carrier address per 1 000 phones',
    edit: (p) => editYaml(p, 'config/6A/device_priors.yaml', (d) => (d.ips.devices_per_ip.MOBILE_CARRIER = 1000)),
  },
  {
    gate: 'T5_devices_per_ip_max',
    batch: 'lines-popularity-cards',
    why: 'carrier popularity so skewed that one address serves a whole country',
    edit: (p) => editYaml(p, 'config/6A/device_priors.yaml', (d) => (d.ips.popularity_sigma.MOBILE_CARRIER = 3)),
  },
  {
    gate: 'chain_ready_party_share',
    batch: 'lines-popularity-cards',
    why: 'only 30 % of current accounts come with a debit card',
    edit: (p) =>
      editYaml(p, 'config/6A/instrument_priors.yaml', (d) => {
        d.per_account_type.CURRENT.DEBIT_CARD.p_first = 0.3;
        d.per_account_type.BUSINESS_CURRENT.DEBIT_CARD.p_first = 0.3;
      }),
  },
  {
    gate: 'household_ip_share',
    why: 'a fifth of homes with a line',
    edit: (p) => editYaml(p, 'config/6A/device_priors.yaml', (d) => REGIONS.forEach((r) => (d.households.broadband_share[r] = 0.2))),
  },
  {
    gate: 'desktop_links_on_carrier_share',
    why: 'every desktop tethers, and few homes have a line',
    edit: (p) =>
      editYaml(p, 'config/6A/device_priors.yaml', (d) => {
        d.ips.tether_share = { DESKTOP: 1, TABLET: 1 };
        for (const r of REGIONS) d.households.broadband_share[r] = 0.4;
      }),
  },
];

// The cases: fraud roles and their signal

const PERPETRATORS = ['mule', 'synthetic_identity', 'first_party_fraudster', 'bust_out'];
export const roleCases: GateCase[] = [
  {
    gate: 'T6_roles_mapped_share',
    batch: 'families-vpn-merchants',
    why: 'a raw role (mule_account) left out of the family table',
    edit: (p) => editYaml(p, 'config/6A/fraud_priors.yaml', (d) => delete d.role_families.mule_account),
  },
  {
    gate: 'T7_device_odds_ratio',
    batch: 'devices-mule-odds',
    why: "a perpetrator's devices no riskier than anyone's (5 % of every device risky), and no device farms (risk does not follow the owner)",
    edit: (p) => {
      // at the compromised rate (0.4 %) a dev world's perpetrators own only a few risky devices, and the
      // odds ratio of so few is noise that can land above 1.5; at 5 % both ways it is ~1 with a tight interval
      editYaml(p, 'config/6A/fraud_priors.yaml', (d) => (d.device_risk.perpetrator_rate = d.device_risk.compromised_rate = 0.05));
      editYaml(p, 'config/6A/device_priors.yaml', (d) => (d.farms.device_share = 0));
    },
  },
  {
    gate: 'T7_account_odds_ratio',
    why: "every perpetrator account used and no clean party's compromised: the owner's label settles the account's (over-separable)",
    edit: (p) =>
      editYaml(p, 'config/6A/fraud_priors.yaml', (d) => {
        for (const r of PERPETRATORS) d.account_risk[r] = { base_rate: 0.999 };
        d.compromised_rate = 0;
        d.party_roles.ato_victim.base_rate = 0.00001;
      }),
  },
  {
    gate: 'T8_role_mix_jsd',
    why: 'a prior with 46 % mules',
    edit: (p) => editYaml(p, 'config/6A/fraud_priors.yaml', (d) => (d.party_roles.mule.base_rate = 0.46)),
  },
  {
    gate: 'anon_ip_risk_ratio',
    batch: 'families-vpn-merchants',
    why: 'one device per VPN or hosting address: no anonymizer accumulates abuse',
    edit: (p) =>
      editYaml(p, 'config/6A/device_priors.yaml', (d) => {
        d.ips.devices_per_ip.VPN_PROXY = 1;
        d.ips.devices_per_ip.DATACENTER = 1;
      }),
  },
  {
    gate: 'mule_student_senior_ratio',
    batch: 'devices-mule-odds',
    why: 'mule odds independent of age, tenure and product depth',
    edit: (p) =>
      editYaml(p, 'config/6A/fraud_priors.yaml', (d) => {
        for (const f of ['young', 'new', 'thin']) delete d.party_roles.mule.log_odds[f];
      }),
  },
  {
    gate: 'farm_user_risk_ratio',
    why: 'device farms carry no risk and use anonymizers no more than anyone',
    edit: (p) => {
      editYaml(p, 'config/6A/fraud_priors.yaml', (d) => {
        for (const r of Object.keys(d.party_roles)) {
          delete d.party_roles[r].log_odds.farm_device;
          delete d.party_roles[r].log_odds.anon_ip;
        }
      });
      editYaml(p, 'config/6A/device_priors.yaml', (d) => (d.farms.anonymizer_share = 0.04));
    },
  },
  {
    gate: 'risky_party_share',
    why: 'every perpetrator base rate ten times too high',
    edit: (p) => editYaml(p, 'config/6A/fraud_priors.yaml', (d) => PERPETRATORS.forEach((r) => (d.party_roles[r].base_rate *= 10))),
  },
  {
    gate: 'risky_merchant_share',
    batch: 'families-vpn-merchants',
    why: 'one merchant in twenty collusive',
    edit: (p) => editYaml(p, 'config/6A/fraud_priors.yaml', (d) => (d.merchant_roles.collusive_merchant.base_rate = 0.05)),
  },
  {
    gate: 'L1_party_risk_auc',
    why: 'roles drawn without regard to any observable (pure noise)',
    edit: (p) =>
      editYaml(p, 'config/6A/fraud_priors.yaml', (d) =>
        Object.values(d.party_roles).forEach((r: any) => {
          r.log_odds = {};
          delete r.requires;
        }),
      ),
  },
  {
    gate: 'L1_max_single_feature_auc',
    why: 'perpetrators are exactly the anonymizer users (one feature gives them away)',
    edit: (p) =>
      editYaml(p, 'config/6A/fraud_priors.yaml', (d) => {
        d.clamp.lo = -14;
        for (const r of PERPETRATORS) d.party_roles[r] = { base_rate: 0.000001, log_odds: { anon_ip: 12 } };
      }),
  },
];

/** Gates measured by another command or segment, whose failing cases live with it. */
export const ELSEWHERE: Record<string, string> = {
  T9_cross_seed_cv: 'test/states/certify-6A.test.ts (dag report --group over seeds)',
  T10_cnp_full_chain: 'segment 6B (pending downstream)',
};
