import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  /** One value per x; null where there is none (a gap). */
  values: (number | null)[];
  colour: string;
  dashed?: boolean;
}

/**
 * A small line chart (uPlot) of figures per minute, as wide as its box and redrawn when the box or
 * the data change. Charts are pictures to a screen reader: `summary` says in words what matters.
 */
export function MinuteChart({ title, minutes, series, unit, summary }: { title: string; minutes: number[]; series: Series[]; unit: string; summary: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = [minutes.map((start) => start / 1000), ...series.map((each) => each.values)] as uPlot.AlignedData;

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    plot.current = new uPlot(
      {
        width: Math.max(element.clientWidth, 200),
        height: 150,
        legend: { show: true, live: false },
        cursor: { show: false },
        scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [{ values: (_u, ticks) => ticks.map((tick) => new Date(tick * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false })) }, { label: unit, size: 56 }],
        // Points too: a minute alone between gaps (a burst) has no line to draw.
        series: [{}, ...series.map((each) => ({ label: each.label, stroke: each.colour, width: 2, points: { show: true, size: 5, fill: each.colour }, ...(each.dashed ? { dash: [6, 4] } : {}), spanGaps: false }))],
      },
      data,
      element,
    );
    const resized = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(element.clientWidth, 200), height: 150 }));
    resized.observe(element);
    return () => {
      resized.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // The chart is built once per set of series; new figures only change its data (below).
  }, [series.map((each) => each.label).join()]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}: ${summary}`} />
      <p class="help">{summary}</p>
    </figure>
  );
}
