// ECharts, only the parts the pages use (tree-shaken into the bundle; no CDN).
import * as echarts from 'echarts/core'
import { BarChart, FunnelChart, LineChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent, TitleComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([LineChart, BarChart, FunnelChart, GridComponent, LegendComponent, TooltipComponent, TitleComponent, CanvasRenderer])

const charts = new WeakMap()
export function draw(element, option) {
  if (!element) return null
  let chart = charts.get(element)
  if (!chart) { chart = echarts.init(element); charts.set(element, chart) }
  chart.setOption(option, true)
  return chart
}

const minuteLabel = (m) => (typeof m.minute === 'string' ? m.minute.slice(11, 16) : String(m.minute))

export function onlineCurve(perMinute) {
  return { tooltip: { trigger: 'axis' }, xAxis: { type: 'category', data: perMinute.map(minuteLabel) },
    yAxis: { type: 'value' }, series: [{ type: 'line', smooth: true, areaStyle: {}, data: perMinute.map((m) => m.online ?? 0) }] }
}

export function gmvOrders(perMinute, names) {
  return { tooltip: { trigger: 'axis' }, legend: { data: names },
    xAxis: { type: 'category', data: perMinute.map(minuteLabel) },
    yAxis: [{ type: 'value', name: names[0] }, { type: 'value', name: names[1] }],
    series: [{ name: names[0], type: 'bar', data: perMinute.map((m) => (m.gmv ?? 0) / 100) },
      { name: names[1], type: 'line', yAxisIndex: 1, data: perMinute.map((m) => m.orders ?? 0) }] }
}

export function funnel(f, names) {
  const data = [[names[0], f.viewers], [names[1], f.clickers], [names[2], f.orderers], [names[3], f.payers]]
  return { tooltip: {}, series: [{ type: 'funnel', sort: 'none', data: data.map(([name, value]) => ({ name, value: value ?? 0 })) }] }
}
