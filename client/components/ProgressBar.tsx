export function ProgressBar({
  value,
  max,
  label,
  tone,
}: {
  value: number;
  max: number;
  label: string;
  tone: 'active' | 'success' | 'muted';
}) {
  const percent = Math.min(100, Math.round((value / max) * 100));
  return (
    <div
      className={`progress progress--${tone}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
    >
      {/* scaleX, not width: the compositor animates it, without a layout and paint on every progress tick */}
      <div className="progress__fill" style={{ transform: `scaleX(${percent / 100})` }} />
    </div>
  );
}
