-- T23 across seeds, run by `dag report --group` (config/6B/validation_policy.yaml, cross_seed.queries):
-- schema `train` holds the datasets of one seed's run, `score` another's. The model is 6B.S5's
-- T23: naive Bayes over observable features only, weights of evidence ln P(value | fraud) -
-- ln P(value | legit), Laplace-smoothed, from every flow of the train seed (s5_feature_cells_6B:
-- flows per combination of feature values and truth); a flow's score is the sum of its values'
-- weights (a value the train seed never showed weighs 0). ROC AUC over every flow of the score
-- seed, exact with ties (ties count half), and each feature alone. One row: the gates, then figures.
with t as (
  unpivot train.s5_feature_cells_6B on amount, mcc, channel, hour, device, ip, ip_country, velocity, account_age into name feature value value
), c as (
  select feature, value, coalesce(sum(flows) filter (where is_fraud_truth), 0) as pos, coalesce(sum(flows) filter (where not is_fraud_truth), 0) as neg
  from t group by all
), tot as (
  select feature, sum(pos) as p, sum(neg) as n, count(*) as k from c group by all
), woe as (
  select c.feature, c.value, ln((c.pos + 1) / (t.p + t.k)) - ln((c.neg + 1) / (t.n + t.k)) as w from c join tot t using (feature)
), cells as (
  select row_number() over () as cell, * from score.s5_feature_cells_6B
), sl as (
  unpivot cells on amount, mcc, channel, hour, device, ip, ip_country, velocity, account_age into name feature value value
), sw as (
  select sl.cell, sl.feature, sl.is_fraud_truth as y, sl.flows, coalesce(w.w, 0e0) as w from sl left join woe w using (feature, value)
), scores as (
  -- the model's score per cell (feature '*'), and each feature's weight alone
  select cell, '*' as feature, any_value(y) as y, any_value(flows) as flows, round(sum(w), 9) as score from sw group by cell
  union all
  select cell, feature, y, flows, round(w, 9) from sw
), g as (
  select feature, score, coalesce(sum(flows) filter (where y), 0)::DOUBLE as pos, coalesce(sum(flows) filter (where not y), 0)::DOUBLE as neg
  from scores group by all
), below as (
  select *, coalesce(sum(neg) over (partition by feature order by score rows between unbounded preceding and 1 preceding), 0) as neg_below from g
), auc as (
  select feature, (sum(pos * neg_below) + 0.5 * sum(pos * neg)) / nullif(sum(pos) * sum(neg), 0) as auc, sum(pos) as positives, sum(neg) as negatives
  from below group by feature
)
select max(auc) filter (where feature = '*') as T23_cross_seed_model_auc,
       max(auc) filter (where feature <> '*') as T23_cross_seed_best_single_feature_auc,
       max(positives) filter (where feature = '*') as score_positives,
       max(negatives) filter (where feature = '*') as score_negatives,
       (select sum(flows) from train.s5_feature_cells_6B where is_fraud_truth) as train_positives,
       max(auc) filter (where feature = 'amount') as auc_amount, max(auc) filter (where feature = 'mcc') as auc_mcc,
       max(auc) filter (where feature = 'channel') as auc_channel, max(auc) filter (where feature = 'hour') as auc_hour,
       max(auc) filter (where feature = 'device') as auc_device, max(auc) filter (where feature = 'ip') as auc_ip,
       max(auc) filter (where feature = 'ip_country') as auc_ip_country, max(auc) filter (where feature = 'velocity') as auc_velocity,
       max(auc) filter (where feature = 'account_age') as auc_account_age
from auc;
