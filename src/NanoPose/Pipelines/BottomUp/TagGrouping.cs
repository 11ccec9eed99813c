namespace NanoPose.Pipelines.BottomUp;

/// <summary>
/// Associative-embedding grouping (MODELS.md C.3 step 3; HigherHRNet <c>match_by_tag</c>): joints are visited in a
/// fixed order and each joint's candidates are matched to the people found so far by an optimal assignment on their
/// tag distances.
/// </summary>
public static class TagGrouping
{
    /// <summary>COCO joints in matching order: head, shoulders, hips, then the limbs outward.</summary>
    public static ReadOnlySpan<int> CocoJointOrder => [0, 1, 2, 3, 4, 5, 6, 11, 12, 7, 8, 9, 10, 13, 14, 15, 16];

    /// <summary>The cost of leaving a candidate unmatched (a padding column), far above any real cost.</summary>
    private const double UnmatchedCost = 1e10;

    /// <summary>
    /// Groups the candidates of every joint (<paramref name="candidates"/>[joint]) visited in
    /// <paramref name="jointOrder"/>. Returns the people in creation order, each an array of joints with
    /// (x, y, value) at integer map positions, all zero where the person has no such joint.
    /// <para>
    /// People are keyed, as in the reference's dictionary, by the first tag component of the candidate that started
    /// them; a new candidate whose key equals an existing one lands on that person (overwriting the joint and
    /// restarting its tag list), which is replicated so that results match.
    /// </para>
    /// </summary>
    public static List<Keypoint[]> Group(IReadOnlyList<JointCandidates> candidates, ReadOnlySpan<int> jointOrder, ParserOptions options)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int joints = candidates.Count;
        foreach (int joint in jointOrder)
            if ((uint)joint >= (uint)joints) throw new ArgumentException($"joint {joint} is outside the {joints} candidate lists", nameof(jointOrder));

        var people = new People(joints);
        foreach (int joint in jointOrder)
        {
            var all = candidates[joint];
            var rows = new List<int>();
            for (int c = 0; c < all.Count; c++)
                if (all.Values[c] > options.DetectionThreshold) rows.Add(c);
            if (rows.Count == 0) continue;

            if (people.Count == 0)
            {
                foreach (int c in rows) people.Start(all, c, joint);
                continue;
            }

            int grouped = Math.Min(people.Count, options.MaxPeople);
            if (options.IgnoreTooMuch && grouped == options.MaxPeople) continue;

            var groupedKeys = people.Keys.GetRange(0, grouped);
            var meanTags = groupedKeys.Select(people.MeanTag).ToArray();
            int columns = Math.Max(rows.Count, grouped);
            var distances = new double[rows.Count * grouped];
            var costs = new double[rows.Count * columns];
            for (int r = 0; r < rows.Count; r++)
            {
                int c = rows[r];
                for (int p = 0; p < grouped; p++)
                {
                    double distance = Distance(all.Tags[c], meanTags[p]);
                    distances[r * grouped + p] = distance;
                    costs[r * columns + p] = options.UseDetectionValue ? Math.Round(distance) * 100 - all.Values[c] : distance;
                }
                for (int p = grouped; p < columns; p++) costs[r * columns + p] = UnmatchedCost;
            }

            int[] assignment = Munkres.Solve(costs, rows.Count, columns);
            for (int r = 0; r < rows.Count; r++)
            {
                int p = assignment[r];
                if (p >= 0 && p < grouped && distances[r * grouped + p] < options.TagThreshold) people.Add(groupedKeys[p], all, rows[r], joint);
                else people.Start(all, rows[r], joint);
            }
        }
        return people.Joints();
    }

    /// <summary>L2 distance in double between a candidate's float32 tag and a person's float32 mean tag.</summary>
    private static double Distance(float[] tag, float[] mean)
    {
        double sum = 0;
        for (int d = 0; d < tag.Length; d++)
        {
            double difference = (double)tag[d] - mean[d];
            sum += difference * difference;
        }
        return Math.Sqrt(sum);
    }

    /// <summary>The reference's two dictionaries (joints and tags by key), in insertion order.</summary>
    private sealed class People(int joints)
    {
        private readonly Dictionary<float, (Keypoint[] Joints, List<float[]> Tags)> _byKey = [];

        public List<float> Keys { get; } = [];
        public int Count => Keys.Count;

        public void Start(JointCandidates candidates, int c, int joint)
        {
            float key = candidates.Tags[c][0];
            if (!_byKey.TryGetValue(key, out var person))
            {
                person = (new Keypoint[joints], []);
                Keys.Add(key);
            }
            person.Joints[joint] = At(candidates, c);
            _byKey[key] = (person.Joints, [candidates.Tags[c]]);
        }

        public void Add(float key, JointCandidates candidates, int c, int joint)
        {
            var person = _byKey[key];
            person.Joints[joint] = At(candidates, c);
            person.Tags.Add(candidates.Tags[c]);
        }

        /// <summary>numpy's float32 mean over axis 0: a running float32 sum, then one float32 division.</summary>
        public float[] MeanTag(float key)
        {
            var tags = _byKey[key].Tags;
            var mean = new float[tags[0].Length];
            foreach (var tag in tags)
                for (int d = 0; d < mean.Length; d++) mean[d] += tag[d];
            for (int d = 0; d < mean.Length; d++) mean[d] /= tags.Count;
            return mean;
        }

        public List<Keypoint[]> Joints() => [.. Keys.Select(k => _byKey[k].Joints)];

        private static Keypoint At(JointCandidates candidates, int c) => new(candidates.X[c], candidates.Y[c], candidates.Values[c]);
    }
}
