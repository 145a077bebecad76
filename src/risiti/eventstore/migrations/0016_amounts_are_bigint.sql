-- Columns that hold stock are bigint, as every amount column already is (docs/api.md, "Bounds"):
-- stock may reach ±10^12 units, and an adjustment of 3 × 10^9 no longer overflows int32.
ALTER TABLE stock_adjustments
    ALTER COLUMN delta       TYPE bigint,
    ALTER COLUMN stock_after TYPE bigint;
ALTER TABLE stock_movements
    ALTER COLUMN quantity TYPE bigint;
