// Made-up weather: the sandbox has no API key, and a fixed seed keeps each city's data stable.

export type Condition = 'sunny' | 'cloudy' | 'rain' | 'storm' | 'snow';

export interface CityWeather {
  city: string;
  condition: Condition;
  tempC: number;
  humidity: number;
  windKmh: number;
  hourly: { hour: string; tempC: number }[];
  daily: { day: string; condition: Condition; highC: number; lowC: number }[];
}

const CITIES: { name: string; baseC: number; conditions: Condition[] }[] = [
  { name: 'Lisbon', baseC: 21, conditions: ['sunny', 'sunny', 'cloudy'] },
  { name: 'Oslo', baseC: 4, conditions: ['snow', 'cloudy', 'cloudy', 'sunny'] },
  { name: 'Tokyo', baseC: 17, conditions: ['rain', 'cloudy', 'sunny'] },
  { name: 'Chicago', baseC: 12, conditions: ['storm', 'cloudy', 'sunny', 'rain'] },
];

export const CITY_NAMES = CITIES.map((c) => c.name);

/** A small deterministic pseudo-random generator (mulberry32). */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function weatherFor(name: string): CityWeather {
  const city = CITIES.find((c) => c.name === name) ?? CITIES[0]!;
  const rnd = random([...city.name].reduce((h, ch) => h * 31 + ch.charCodeAt(0), 7));
  const pick = () => city.conditions[Math.floor(rnd() * city.conditions.length)] ?? 'cloudy';
  const hourly = Array.from({ length: 24 }, (_, h) => ({
    hour: `${String(h).padStart(2, '0')}:00`,
    // Coolest before dawn, warmest mid-afternoon.
    tempC: Math.round(city.baseC + 6 * Math.sin(((h - 9) / 24) * 2 * Math.PI) + rnd() * 2 - 1),
  }));
  const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  const daily = days.map((day) => {
    const highC = Math.round(city.baseC + 4 + rnd() * 5);
    return { day, condition: pick(), highC, lowC: highC - 6 - Math.round(rnd() * 4) };
  });
  return {
    city: city.name,
    condition: city.conditions[0] ?? 'cloudy',
    tempC: hourly[new Date().getHours()]?.tempC ?? city.baseC,
    humidity: Math.round(40 + rnd() * 50),
    windKmh: Math.round(5 + rnd() * 30),
    hourly,
    daily,
  };
}
