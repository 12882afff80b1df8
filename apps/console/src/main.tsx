import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { currentToken } from './api/client';
import { prefetchOverview, queryClient } from './api/queries';
import { App } from './app';
import './styles.css';

if (currentToken()) prefetchOverview();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
