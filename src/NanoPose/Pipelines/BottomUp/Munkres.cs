namespace NanoPose.Pipelines.BottomUp;

/// <summary>
/// Minimum-cost assignment (Kuhn–Munkres, the Hungarian method) on a rectangular cost matrix.
/// <para>
/// The steps are those of the classic formulation (row reduction, star zeros, cover columns, prime zeros, augmenting
/// path, adjust by the smallest uncovered value) in the order and scan directions of the Python <c>munkres</c>
/// package that HigherHRNet's grouping calls, so that among equally cheap assignments it picks the same one: a
/// rectangular matrix is zero-padded to square; the search for an uncovered zero resumes at the last primed row and
/// column, wraps around, and takes the <em>last</em> uncovered zero of the first row that has one; the smallest
/// uncovered value is added to covered rows and then subtracted from uncovered columns, in double precision.
/// </para>
/// </summary>
public static class Munkres
{
    private const byte Starred = 1;
    private const byte Primed = 2;

    /// <summary>
    /// Assigns rows to columns of a <paramref name="rows"/> × <paramref name="columns"/> row-major cost matrix with the
    /// smallest total cost. Returns, for each row, its column, or −1 when there are more rows than columns and the row
    /// was left to a padding column. Costs must be finite.
    /// </summary>
    public static int[] Solve(ReadOnlySpan<double> costs, int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if ((long)rows * columns != costs.Length)
            throw new ArgumentException($"a {rows}×{columns} matrix needs {(long)rows * columns} costs, found {costs.Length}", nameof(costs));
        for (int i = 0; i < costs.Length; i++)
            if (!double.IsFinite(costs[i])) throw new ArgumentException($"cost {costs[i]} at row {i / columns}, column {i % columns} is not finite", nameof(costs));

        var assignment = new int[rows];
        Array.Fill(assignment, -1);
        if (rows == 0 || columns == 0) return assignment;

        var solver = new Solver(costs, rows, columns);
        solver.Run();
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                if (solver.Mark(r, c) == Starred) assignment[r] = c;
        return assignment;
    }

    private sealed class Solver
    {
        private readonly int _n;
        private readonly double[] _cost;
        private readonly byte[] _marks;
        private readonly bool[] _rowCovered;
        private readonly bool[] _columnCovered;

        public Solver(ReadOnlySpan<double> costs, int rows, int columns)
        {
            _n = Math.Max(rows, columns);
            _cost = new double[_n * _n];
            for (int r = 0; r < rows; r++)
                costs.Slice(r * columns, columns).CopyTo(_cost.AsSpan(r * _n, columns));
            _marks = new byte[_n * _n];
            _rowCovered = new bool[_n];
            _columnCovered = new bool[_n];
        }

        public byte Mark(int row, int column) => _marks[row * _n + column];

        public void Run()
        {
            ReduceRows();
            StarIndependentZeros();
            while (CoverStarredColumns() < _n)
            {
                // Prime uncovered zeros until one has no star in its row, adjusting the matrix whenever none is left.
                (int row, int column) = PrimeZeros();
                while (row < 0)
                {
                    AddSmallestUncovered();
                    (row, column) = PrimeZeros();
                }
                Augment(row, column);
            }
        }

        private void ReduceRows()
        {
            for (int r = 0; r < _n; r++)
            {
                var row = _cost.AsSpan(r * _n, _n);
                double min = row[0];
                foreach (double v in row) min = Math.Min(min, v);
                for (int c = 0; c < _n; c++) row[c] -= min;
            }
        }

        private void StarIndependentZeros()
        {
            for (int r = 0; r < _n; r++)
                for (int c = 0; c < _n; c++)
                    if (_cost[r * _n + c] == 0 && !_columnCovered[c] && !_rowCovered[r])
                    {
                        _marks[r * _n + c] = Starred;
                        _columnCovered[c] = true;
                        _rowCovered[r] = true;
                        break;
                    }
            ClearCovers();
        }

        private int CoverStarredColumns()
        {
            int count = 0;
            for (int r = 0; r < _n; r++)
                for (int c = 0; c < _n; c++)
                    if (_marks[r * _n + c] == Starred && !_columnCovered[c])
                    {
                        _columnCovered[c] = true;
                        count++;
                    }
            return count;
        }

        /// <summary>Primes uncovered zeros; returns the first primed zero with no star in its row, or row −1 when
        /// no uncovered zero is left.</summary>
        private (int Row, int Column) PrimeZeros()
        {
            int row = 0, column = 0;
            while (true)
            {
                (row, column) = FindUncoveredZero(row, column);
                if (row < 0) return (-1, -1);
                _marks[row * _n + column] = Primed;
                int star = FindInRow(row, Starred);
                if (star < 0) return (row, column);
                column = star;
                _rowCovered[row] = true;
                _columnCovered[star] = false;
            }
        }

        /// <summary>Scans rows from <paramref name="row0"/> and, in each, columns from <paramref name="column0"/>, both
        /// wrapping; returns the last uncovered zero of the first row holding one (the reference's scan).</summary>
        private (int Row, int Column) FindUncoveredZero(int row0, int column0)
        {
            int r = row0;
            do
            {
                if (!_rowCovered[r])
                {
                    int found = -1, c = column0;
                    do
                    {
                        if (_cost[r * _n + c] == 0 && !_columnCovered[c]) found = c;
                        c = (c + 1) % _n;
                    } while (c != column0);
                    if (found >= 0) return (r, found);
                }
                r = (r + 1) % _n;
            } while (r != row0);
            return (-1, -1);
        }

        /// <summary>Flips stars and primes along the alternating path from the primed zero, then clears covers and primes.</summary>
        private void Augment(int row, int column)
        {
            var path = new List<(int Row, int Column)> { (row, column) };
            while (true)
            {
                int starRow = FindInColumn(path[^1].Column, Starred);
                if (starRow < 0) break;
                path.Add((starRow, path[^1].Column));
                path.Add((starRow, FindInRow(starRow, Primed)));
            }
            foreach (var (r, c) in path)
                _marks[r * _n + c] = _marks[r * _n + c] == Starred ? (byte)0 : Starred;
            ClearCovers();
            for (int i = 0; i < _marks.Length; i++)
                if (_marks[i] == Primed) _marks[i] = 0;
        }

        private void AddSmallestUncovered()
        {
            double min = double.PositiveInfinity;
            for (int r = 0; r < _n; r++)
                for (int c = 0; c < _n; c++)
                    if (!_rowCovered[r] && !_columnCovered[c] && _cost[r * _n + c] < min) min = _cost[r * _n + c];
            // Two separate roundings on purpose (a covered row of an uncovered column gets +min then −min), as the reference.
            for (int r = 0; r < _n; r++)
                for (int c = 0; c < _n; c++)
                {
                    if (_rowCovered[r]) _cost[r * _n + c] += min;
                    if (!_columnCovered[c]) _cost[r * _n + c] -= min;
                }
        }

        private int FindInRow(int row, byte mark)
        {
            for (int c = 0; c < _n; c++)
                if (_marks[row * _n + c] == mark) return c;
            return -1;
        }

        private int FindInColumn(int column, byte mark)
        {
            for (int r = 0; r < _n; r++)
                if (_marks[r * _n + column] == mark) return r;
            return -1;
        }

        private void ClearCovers()
        {
            Array.Clear(_rowCovered);
            Array.Clear(_columnCovered);
        }
    }
}
