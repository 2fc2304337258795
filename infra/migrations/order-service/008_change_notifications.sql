-- Up Migration
-- Every change a reader of the API could see is announced on the channel "<schema>.changes" when
-- its transaction commits (NOTIFY is transactional, and repeats within one transaction are sent
-- once): `order:<id>` when an order's status or history changes or the order is deleted, `catalog`
-- when stock, prices or products change. Every order-service instance listens: it drops what it
-- cached and wakes the clients waiting for the order (GET /orders/:id?wait=), whichever instance
-- made the change. Triggers rather than code, so that no path that changes an order can forget to.
CREATE FUNCTION announce_order_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_TABLE_SCHEMA || '.changes', 'order:' || COALESCE(NEW.id, OLD.id));
  RETURN NULL;
END $$;

CREATE FUNCTION announce_order_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_TABLE_SCHEMA || '.changes', 'order:' || NEW.order_id);
  RETURN NULL;
END $$;

CREATE FUNCTION announce_catalog_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(TG_TABLE_SCHEMA || '.changes', 'catalog');
  RETURN NULL;
END $$;

-- Not on every update of orders: the retention job's clearing of idempotency keys changes nothing a reader sees.
CREATE TRIGGER orders_changed AFTER UPDATE OF status, cancellation_reason OR DELETE ON orders
  FOR EACH ROW EXECUTE FUNCTION announce_order_change();
CREATE TRIGGER order_history_added AFTER INSERT ON order_history
  FOR EACH ROW EXECUTE FUNCTION announce_order_history_change();
-- Per statement: one stock update moves many SKUs and one announcement covers them.
CREATE TRIGGER product_stock_changed AFTER INSERT OR UPDATE OR DELETE ON product_stock
  FOR EACH STATEMENT EXECUTE FUNCTION announce_catalog_change();
CREATE TRIGGER product_prices_changed AFTER INSERT OR UPDATE OR DELETE ON product_prices
  FOR EACH STATEMENT EXECUTE FUNCTION announce_catalog_change();
CREATE TRIGGER products_changed AFTER INSERT OR UPDATE OR DELETE ON products
  FOR EACH STATEMENT EXECUTE FUNCTION announce_catalog_change();

-- Down Migration
DROP TRIGGER products_changed ON products;
DROP TRIGGER product_prices_changed ON product_prices;
DROP TRIGGER product_stock_changed ON product_stock;
DROP TRIGGER order_history_added ON order_history;
DROP TRIGGER orders_changed ON orders;
DROP FUNCTION announce_catalog_change();
DROP FUNCTION announce_order_history_change();
DROP FUNCTION announce_order_change();
