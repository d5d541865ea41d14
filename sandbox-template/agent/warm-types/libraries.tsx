// Never built or served: a second project the warm type check (../type-check.mjs) opens beside
// the app's, so the compiler has read the types of every library an app may import
// (libraries.json; a test keeps the two in step) before the app's first check needs them.
import { useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Timer } from 'lucide-react';
import { LineChart, Line } from 'recharts';
import clsx from 'clsx';
import { useSharedState } from '@vibe/shared';

export const libraries = [useState, createRoot, Timer, LineChart, Line, clsx, useSharedState];
