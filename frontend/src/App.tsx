import { lazy, Suspense } from "react";
import { Link, Route, Routes } from "react-router";
import { Layout, PageHeader } from "./components/Layout";
import { Loading } from "./components/States";
import { RankingsPage } from "./pages/RankingsPage";
import { ObjectsPage } from "./pages/ObjectsPage";
import { StreamsPage } from "./pages/StreamsPage";
import { useDocumentTitle } from "./hooks/useDocumentTitle";
import { AlertsPage } from "./pages/AlertsPage";

// The detail page carries the chart library: load it only when a stream is opened.
const StreamDetailPage = lazy(() => import("./pages/StreamDetailPage"));

function NotFound() {
  useDocumentTitle("Not found");
  return (
    <section data-testid="view-not-found">
      <PageHeader title="Page not found" subtitle="There is nothing at this address." />
      <Link to="/" className="btn-primary">
        Go to rankings
      </Link>
    </section>
  );
}

export function AppRoutes() {
  return (
    <Layout>
      <Suspense fallback={<Loading label="Loading page…" />}>
        <Routes>
          <Route path="/" element={<RankingsPage />} />
          <Route path="/objects" element={<ObjectsPage />} />
          <Route path="/streams" element={<StreamsPage />} />
          <Route path="/streams/:id" element={<StreamDetailPage />} />
          <Route path="/alerts" element={<AlertsPage />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </Suspense>
    </Layout>
  );
}
