export const CATEGORIES = ['Food', 'Transport', 'Home', 'Fun', 'Health', 'Other'] as const;
export type Category = (typeof CATEGORIES)[number];

export const COLORS: Record<Category, string> = {
  Food: '#f97316',
  Transport: '#3b82f6',
  Home: '#8b5cf6',
  Fun: '#ec4899',
  Health: '#10b981',
  Other: '#64748b',
};

export interface Expense {
  id: string;
  description: string;
  amount: number;
  category: Category;
  date: string; // YYYY-MM-DD
}

export const money = (n: number) => n.toLocaleString(undefined, { style: 'currency', currency: 'USD' });

const today = new Date().toISOString().slice(0, 10);

/** A few entries so the chart has something to show on first visit. */
export const SAMPLE_EXPENSES: Expense[] = [
  { id: 's1', description: 'Groceries', amount: 64.2, category: 'Food', date: today },
  { id: 's2', description: 'Metro card', amount: 30, category: 'Transport', date: today },
  { id: 's3', description: 'Cinema', amount: 24.5, category: 'Fun', date: today },
  { id: 's4', description: 'Electricity bill', amount: 81.9, category: 'Home', date: today },
];
