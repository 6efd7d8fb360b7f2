import { formatBytes } from '../../contract/api.ts';
import { useUsage } from '../hooks/accounts.ts';
import { ProgressBar } from './ProgressBar.tsx';

/**
 * "3.2 GiB of 10 GiB used" with a bar when there is a quota. Without one nothing is shown: usage
 * records are kept up to date only for a quota (they are not written per upload otherwise).
 */
export function UsageMeter() {
  const usage = useUsage();
  if (!usage.data) return null;
  const { usedBytes, quotaBytes } = usage.data;
  if (quotaBytes === null) return null;
  const text = `${formatBytes(usedBytes)} of ${formatBytes(quotaBytes)} used`;
  return (
    <div className="usage">
      <p className="usage__text">{text}</p>
      <ProgressBar value={usedBytes} max={quotaBytes} label={text} tone={usedBytes >= quotaBytes * 0.9 ? 'active' : 'muted'} />
    </div>
  );
}
