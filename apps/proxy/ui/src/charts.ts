import uPlot from 'uplot';
import { sameSeries, type ChartData } from './chart-data';
import { nodeColours } from './ring-draw';

/** One live chart in a container: rebuilt when its series change, its data replaced otherwise. */
export class LiveChart {
  private plot: uPlot | undefined;
  private data: ChartData | undefined;

  constructor(
    private readonly container: HTMLElement,
    private readonly unit: string,
    /** Mark each value with a dot: series with gaps (latency, errors) would hide a lone value between two gaps. */
    private readonly dots = false,
  ) {}

  /** Fits the chart to its container's width (after the window was resized). */
  resize(): void {
    const width = Math.max(240, this.container.clientWidth);
    if (this.plot !== undefined && Math.abs(this.plot.width - width) > 4) this.plot.setSize({ width, height: this.plot.height });
  }

  /** Draws `data`, at the container's width. */
  update(data: ChartData): void {
    const width = Math.max(240, this.container.clientWidth);
    if (this.plot !== undefined && sameSeries(this.data, data)) {
      this.data = data;
      this.plot.setData(data.columns as uPlot.AlignedData);
      if (Math.abs(this.plot.width - width) > 4) this.plot.setSize({ width, height: this.plot.height });
      return;
    }
    this.plot?.destroy();
    this.data = data;
    const colours = nodeColours(data.labels);
    const unit = this.unit;
    this.plot = new uPlot(
      {
        width,
        height: 180,
        legend: { live: false },
        cursor: { show: false },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [
          {
            stroke: '#8892a0',
            grid: { stroke: '#2a3140' },
            space: 70,
            values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })),
          },
          { stroke: '#8892a0', grid: { stroke: '#2a3140' }, size: 56, values: (_u, ticks) => ticks.map((v) => `${v}${unit}`) },
        ],
        series: [{}, ...data.labels.map((label) => ({ label, stroke: colours.get(label), width: 1.5, spanGaps: false, points: { show: this.dots, size: 4 } }))],
      },
      data.columns as uPlot.AlignedData,
      this.container,
    );
  }
}
