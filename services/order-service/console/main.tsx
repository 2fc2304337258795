import { render } from 'preact';
import { useState } from 'preact/hooks';
import { session } from './api.js';
import { DeadLetter } from './pages/dead-letter.js';
import { DeadLetters } from './pages/dead-letters.js';
import { Jobs } from './pages/jobs.js';
import { Order } from './pages/order.js';
import { Orders } from './pages/orders.js';
import { Services } from './pages/services.js';
import { SignIn } from './pages/sign-in.js';
import { href, useRoute, type Route } from './route.js';
import './console.css';

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'orders':
      return <Orders query={route.query} />;
    case 'order':
      return <Order id={route.id} />;
    case 'dead-letters':
      return <DeadLetters />;
    case 'dead-letter':
      return <DeadLetter id={route.id} />;
    case 'services':
      return <Services />;
    case 'jobs':
      return <Jobs />;
    default:
      return <p>No such page.</p>;
  }
}

/** The console: sign-in first, then the pages behind a navigation bar. */
function Console() {
  const [signedIn, setSignedIn] = useState(() => session.token() !== null);
  const route = useRoute();
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  const current = (page: Route['page'][]) => (page.includes(route.page) ? 'page' : undefined);
  return (
    <>
      {/* The hash holds the page (route.ts): the link moves the focus instead of following `#main`. */}
      <a
        class="skip"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header>
        <nav aria-label="Console">
          <span class="brand">Order console</span>
          <a href={href.orders()} aria-current={current(['orders', 'order'])}>
            Orders
          </a>
          <a href={href.deadLetters()} aria-current={current(['dead-letters', 'dead-letter'])}>
            Dead letters
          </a>
          <a href={href.services()} aria-current={current(['services'])}>
            Services
          </a>
          <a href={href.jobs()} aria-current={current(['jobs'])}>
            Jobs
          </a>
          <button
            type="button"
            class="sign-out"
            onClick={() => {
              session.signOut();
              setSignedIn(false);
            }}
          >
            Sign out
          </button>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} />
      </main>
    </>
  );
}

render(<Console />, document.getElementById('console')!);
