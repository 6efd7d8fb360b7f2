export function ProgressBar({ value, max, label, tone }: { value: number; max: number; label: string; tone: 'active' | 'success' | 'muted' }) {
  const percent = Math.min(100, Math.round((value / max) * 100));
  return (
    <div className={`progress progress--${tone}`} role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
      <div className="progress__fill" style={{ width: `${percent}%` }} />
    </div>
  );
}
