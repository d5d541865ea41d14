import { Cell, Pie, PieChart, ResponsiveContainer, Tooltip } from 'recharts';
import { CATEGORIES, COLORS, money, type Expense } from './categories';

export function SpendingChart({ expenses }: { expenses: Expense[] }) {
  const data = CATEGORIES.map((category) => ({
    category,
    total: expenses.filter((e) => e.category === category).reduce((sum, e) => sum + e.amount, 0),
  })).filter((d) => d.total > 0);

  if (data.length === 0) {
    return <div className="flex h-56 items-center justify-center text-slate-400">No spending yet.</div>;
  }

  return (
    <div className="h-56">
      <ResponsiveContainer width="100%" height="100%">
        <PieChart>
          <Pie data={data} dataKey="total" nameKey="category" innerRadius={55} outerRadius={90} paddingAngle={2}>
            {data.map((d) => (
              <Cell key={d.category} fill={COLORS[d.category]} />
            ))}
          </Pie>
          <Tooltip formatter={(value) => money(Number(value))} />
        </PieChart>
      </ResponsiveContainer>
    </div>
  );
}
