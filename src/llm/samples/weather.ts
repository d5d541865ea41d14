import { loadSampleFiles, type SampleApp } from './sample-app.ts';

export const weatherSample: SampleApp = {
  id: 'weather',
  keywords: [
    'weather',
    'forecast',
    'temperatur',
    'climate',
    'rain',
    'rainy',
    'sun',
    'sunny',
    'humid',
    'wind',
    'dashboard',
    'city',
    'cities',
  ],
  title: 'Weather Dashboard',
  summary: 'A weather dashboard with sample data: current conditions, hourly chart and a 7-day forecast.',
  files: loadSampleFiles(new URL('./weather/', import.meta.url)),
};
