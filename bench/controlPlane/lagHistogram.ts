import { Histogram, type Registry } from 'prom-client';

/**
 * The p99 of torrentedge_projection_lag_seconds over all projections, as the upper bound of the
 * bucket it falls in: the figure a dashboard would show, to cross-check the sampled one.
 */
export async function projectionLagMetricP99Ms(registry: Registry): Promise<number> {
  const metric = registry.getSingleMetric('torrentedge_projection_lag_seconds');
  if (!(metric instanceof Histogram)) return Number.NaN;
  const { values } = await metric.get();
  const cumulative = new Map<number, number>();
  for (const value of values) {
    if (value.metricName !== 'torrentedge_projection_lag_seconds_bucket') continue;
    const le = value.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(value.labels.le);
    cumulative.set(le, (cumulative.get(le) ?? 0) + value.value);
  }
  const buckets = [...cumulative].sort(([a], [b]) => a - b);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return Number.NaN;
  const bucket = buckets.find(([, count]) => count >= 0.99 * total);
  return (bucket?.[0] ?? Number.POSITIVE_INFINITY) * 1000;
}
