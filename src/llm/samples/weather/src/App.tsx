import { useMemo, useState } from 'react';
import {
  Cloud,
  CloudLightning,
  CloudRain,
  Droplets,
  MapPin,
  Snowflake,
  Sun,
  Wind,
  type LucideIcon,
} from 'lucide-react';
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CITY_NAMES, weatherFor, type Condition } from './forecast';

const ICON: Record<Condition, LucideIcon> = {
  sunny: Sun,
  cloudy: Cloud,
  rain: CloudRain,
  storm: CloudLightning,
  snow: Snowflake,
};

const LABEL: Record<Condition, string> = {
  sunny: 'Sunny',
  cloudy: 'Cloudy',
  rain: 'Rain',
  storm: 'Thunderstorms',
  snow: 'Snow',
};

export default function App() {
  const [city, setCity] = useState(CITY_NAMES[0] ?? 'Lisbon');
  const [fahrenheit, setFahrenheit] = useState(false);
  const weather = useMemo(() => weatherFor(city), [city]);

  const t = (c: number) => (fahrenheit ? Math.round((c * 9) / 5 + 32) : c);
  const unit = fahrenheit ? '°F' : '°C';
  const NowIcon = ICON[weather.condition];
  const chartData = weather.hourly.map((h) => ({ hour: h.hour, temp: t(h.tempC) }));

  return (
    <main className="min-h-screen bg-gradient-to-b from-sky-500 to-indigo-700 px-4 py-10 text-white">
      <div className="mx-auto max-w-4xl space-y-6">
        <header className="flex flex-wrap items-center justify-between gap-4">
          <h1 className="text-3xl font-bold">Weather Dashboard</h1>
          <div className="flex items-center gap-2">
            <label className="flex items-center gap-2 rounded-xl bg-white/15 px-3 py-2">
              <MapPin className="h-4 w-4" />
              <select
                value={city}
                onChange={(e) => setCity(e.target.value)}
                aria-label="City"
                className="bg-transparent outline-none [&>option]:text-slate-900"
              >
                {CITY_NAMES.map((c) => (
                  <option key={c}>{c}</option>
                ))}
              </select>
            </label>
            <button
              onClick={() => setFahrenheit(!fahrenheit)}
              className="rounded-xl bg-white/15 px-3 py-2 font-medium hover:bg-white/25"
            >
              {fahrenheit ? '°C' : '°F'}
            </button>
          </div>
        </header>

        <section className="flex flex-wrap items-center gap-8 rounded-3xl bg-white/10 p-6 backdrop-blur">
          <NowIcon className="h-20 w-20" />
          <div>
            <div className="text-6xl font-light">
              {t(weather.tempC)}
              {unit}
            </div>
            <div className="text-lg text-white/80">
              {LABEL[weather.condition]} in {weather.city}
            </div>
          </div>
          <div className="ml-auto space-y-2 text-white/90">
            <div className="flex items-center gap-2">
              <Droplets className="h-5 w-5" /> Humidity {weather.humidity}%
            </div>
            <div className="flex items-center gap-2">
              <Wind className="h-5 w-5" /> Wind {weather.windKmh} km/h
            </div>
          </div>
        </section>

        <section className="rounded-3xl bg-white/10 p-6 backdrop-blur">
          <h2 className="mb-4 font-semibold">Next 24 hours</h2>
          <div className="h-48">
            <ResponsiveContainer width="100%" height="100%">
              <AreaChart data={chartData}>
                <defs>
                  <linearGradient id="temp" x1="0" y1="0" x2="0" y2="1">
                    <stop offset="0%" stopColor="#fde68a" stopOpacity={0.8} />
                    <stop offset="100%" stopColor="#fde68a" stopOpacity={0} />
                  </linearGradient>
                </defs>
                <CartesianGrid strokeDasharray="3 3" stroke="rgba(255,255,255,0.15)" />
                <XAxis dataKey="hour" stroke="rgba(255,255,255,0.7)" interval={3} fontSize={12} />
                <YAxis stroke="rgba(255,255,255,0.7)" fontSize={12} width={32} />
                <Tooltip
                  contentStyle={{ background: '#1e1b4b', border: 'none', borderRadius: 12 }}
                  formatter={(v) => `${v}${unit}`}
                />
                <Area type="monotone" dataKey="temp" stroke="#fde68a" strokeWidth={2} fill="url(#temp)" />
              </AreaChart>
            </ResponsiveContainer>
          </div>
        </section>

        <section className="grid grid-cols-2 gap-3 sm:grid-cols-4 md:grid-cols-7">
          {weather.daily.map((d) => {
            const Icon = ICON[d.condition];
            return (
              <div key={d.day} className="flex flex-col items-center gap-2 rounded-2xl bg-white/10 p-4 backdrop-blur">
                <span className="font-medium">{d.day}</span>
                <Icon className="h-8 w-8" aria-label={LABEL[d.condition]} />
                <span>
                  {t(d.highC)}° <span className="text-white/60">{t(d.lowC)}°</span>
                </span>
              </div>
            );
          })}
        </section>
        <p className="text-center text-sm text-white/60">Sample data — not a real forecast.</p>
      </div>
    </main>
  );
}
