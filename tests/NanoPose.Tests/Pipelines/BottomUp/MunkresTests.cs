using System.Diagnostics;
using NanoPose.Pipelines.BottomUp;

namespace NanoPose.Tests.Pipelines.BottomUp;

public class MunkresTests
{
    [Theory]
    [InlineData(3, 3, new double[] { 400, 150, 400, 400, 450, 600, 300, 225, 300 }, 850)]
    [InlineData(3, 4, new double[] { 400, 150, 400, 1, 400, 450, 600, 2, 300, 225, 300, 3 }, 452)]
    [InlineData(3, 3, new double[] { 10, 10, 8, 9, 8, 1, 9, 7, 4 }, 18)]
    [InlineData(3, 4, new double[] { 10, 10, 8, 11, 9, 8, 1, 1, 9, 7, 4, 10 }, 15)]
    public void SolvesHandCheckedMatrices(int rows, int columns, double[] costs, double expectedTotal)
    {
        var assignment = Munkres.Solve(costs, rows, columns);
        AssertValid(assignment, rows, columns);
        Assert.Equal(expectedTotal, Total(costs, columns, assignment));
    }

    [Fact]
    public void MatchesBruteForceOnRandomMatricesIncludingRectangularAndTied()
    {
        var random = new Random(5);
        for (int trial = 0; trial < 600; trial++)
        {
            int rows = random.Next(1, 7), columns = random.Next(1, 7);
            // A third of the trials draw from five values only, so many optimal assignments tie.
            bool tied = trial % 3 == 0;
            var costs = new double[rows * columns];
            for (int i = 0; i < costs.Length; i++) costs[i] = tied ? random.Next(5) : Math.Round(random.NextDouble() * 200 - 100, 3);

            var assignment = Munkres.Solve(costs, rows, columns);
            AssertValid(assignment, rows, columns);
            Assert.Equal(BruteForceMinimum(costs, rows, columns), Total(costs, columns, assignment), 9);
        }
    }

    [Fact]
    public void BreaksTiesLikeTheReferenceScan()
    {
        // Traced by hand through the reference's steps: the zero search takes the last uncovered zero of a row, so of
        // the four optimal assignments (cost 1) it returns [1, 0, 2].
        double[] costs = [0, 0, 0, 0, 1, 1, 0, 1, 1];
        Assert.Equal([1, 0, 2], Munkres.Solve(costs, 3, 3));
        // Everything equal: the first free zero of each row, the identity.
        Assert.Equal([0, 1, 2], Munkres.Solve(new double[9], 3, 3));
    }

    [Fact]
    public void LeavesSurplusRowsUnassigned()
    {
        // Four rows, two columns: the two rows cheapest for their columns win, the others get −1.
        double[] costs = [5, 5, 1, 9, 9, 1, 7, 7];
        Assert.Equal([-1, 0, 1, -1], Munkres.Solve(costs, 4, 2));
        Assert.Equal([], Munkres.Solve([], 0, 3));
        Assert.Equal([-1, -1], Munkres.Solve([], 2, 0));
    }

    [Fact]
    public void SolvesTheParserSizedProblemQuickly()
    {
        // 30 candidates against 25 people with the grouping's costs (round(distance)·100 − value) and 1e10 padding,
        // and a 30 × 30 matrix of reals, both checked against an independent O(n³) solver.
        var random = new Random(30);
        const int n = 30, people = 25;
        var grouping = new double[n * n];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
                grouping[r * n + c] = c < people ? Math.Round(random.NextDouble() * 4) * 100 - random.NextDouble() : 1e10;
        var reals = new double[n * n];
        for (int i = 0; i < reals.Length; i++) reals[i] = random.NextDouble() * 1000;

        var watch = Stopwatch.StartNew();
        var groupingAssignment = Munkres.Solve(grouping, n, n);
        var realAssignment = Munkres.Solve(reals, n, n);
        watch.Stop();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"two 30×30 problems took {watch.Elapsed.TotalMilliseconds:F0} ms");

        AssertValid(groupingAssignment, n, n);
        AssertValid(realAssignment, n, n);
        // 1e-3: the totals include five 1e10 paddings, whose sums round at 1e-5.
        Assert.Equal(PotentialsMinimum(grouping, n), Total(grouping, n, groupingAssignment), 1e-3);
        Assert.Equal(PotentialsMinimum(reals, n), Total(reals, n, realAssignment), 1e-6);
    }

    [Fact]
    public void RejectsBadArguments()
    {
        Assert.Throws<ArgumentException>(() => Munkres.Solve(new double[5], 2, 3));
        Assert.Throws<ArgumentException>(() => Munkres.Solve([1, double.NaN], 1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Munkres.Solve([], -1, 0));
    }

    private static void AssertValid(int[] assignment, int rows, int columns)
    {
        Assert.Equal(rows, assignment.Length);
        var used = assignment.Where(c => c >= 0).ToList();
        Assert.All(used, c => Assert.InRange(c, 0, columns - 1));
        Assert.Equal(used.Count, used.Distinct().Count());
        Assert.Equal(Math.Min(rows, columns), used.Count);
    }

    private static double Total(double[] costs, int columns, int[] assignment) =>
        assignment.Select((c, r) => c < 0 ? 0 : costs[r * columns + c]).Sum();

    /// <summary>Every permutation of the zero-padded square matrix.</summary>
    private static double BruteForceMinimum(double[] costs, int rows, int columns)
    {
        int n = Math.Max(rows, columns);
        double Cost(int r, int c) => r < rows && c < columns ? costs[r * columns + c] : 0;
        double best = double.PositiveInfinity;
        var permutation = Enumerable.Range(0, n).ToArray();
        void Visit(int k, double sum)
        {
            if (k == n) { best = Math.Min(best, sum); return; }
            for (int i = k; i < n; i++)
            {
                (permutation[k], permutation[i]) = (permutation[i], permutation[k]);
                Visit(k + 1, sum + Cost(k, permutation[k]));
                (permutation[k], permutation[i]) = (permutation[i], permutation[k]);
            }
        }
        Visit(0, 0);
        return best;
    }

    /// <summary>An independent oracle: the shortest-augmenting-path Hungarian method with row and column potentials.</summary>
    private static double PotentialsMinimum(double[] costs, int n)
    {
        var u = new double[n + 1];
        var v = new double[n + 1];
        var columnOwner = new int[n + 1];
        var way = new int[n + 1];
        for (int row = 1; row <= n; row++)
        {
            columnOwner[0] = row;
            int column0 = 0;
            var minimum = Enumerable.Repeat(double.PositiveInfinity, n + 1).ToArray();
            var used = new bool[n + 1];
            do
            {
                used[column0] = true;
                int row0 = columnOwner[column0], column1 = 0;
                double delta = double.PositiveInfinity;
                for (int c = 1; c <= n; c++)
                {
                    if (used[c]) continue;
                    double reduced = costs[(row0 - 1) * n + c - 1] - u[row0] - v[c];
                    if (reduced < minimum[c]) { minimum[c] = reduced; way[c] = column0; }
                    if (minimum[c] < delta) { delta = minimum[c]; column1 = c; }
                }
                for (int c = 0; c <= n; c++)
                {
                    if (used[c]) { u[columnOwner[c]] += delta; v[c] -= delta; }
                    else minimum[c] -= delta;
                }
                column0 = column1;
            } while (columnOwner[column0] != 0);
            do
            {
                int column1 = way[column0];
                columnOwner[column0] = columnOwner[column1];
                column0 = column1;
            } while (column0 != 0);
        }
        double total = 0;
        for (int c = 1; c <= n; c++) total += costs[(columnOwner[c] - 1) * n + c - 1];
        return total;
    }
}
