using System.Runtime.CompilerServices;
using NanoPose.Pipelines.TopDown;
using NanoPose.PoseEstimation;
using NanoPose.Video;

namespace NanoPose.Tracking;

/// <summary>A person in a tracked frame: the track's ID (from 1, never reused) and the pose (smoothed when asked).</summary>
public sealed record TrackedPerson(int TrackId, EstimatedPerson Person);

/// <summary>One frame's people, by track ID. <paramref name="Detected"/>: the person detector ran on this frame (top-down
/// models; always true for bottom-up ones). The frame's pixels are valid until the next frame is read.</summary>
public sealed record TrackedFrame(VideoFrame Frame, IReadOnlyList<TrackedPerson> People, bool Detected);

/// <summary>
/// Frames in, tracked people out. Each frame's people are estimated (on a detection frame from the detector's boxes;
/// in between, see <see cref="PoseTrackerOptions.DetectEvery"/>, from the box around each tracked person's previous
/// keypoints), then matched greedily to the tracks of the previous frames by <see cref="PoseTrackerOptions.MatchThreshold"/>.
/// A person matching no track starts a new one with the next ID (on detection frames, unless 70 % of their box lies in
/// the box of a person who continues a track: the detector's second box on part of one person); a track nobody matches is
/// kept for <see cref="PoseTrackerOptions.MaxMissedFrames"/> frames. With <see cref="PoseTrackerOptions.Smooth"/> each
/// track's keypoints go through a One-Euro filter per coordinate, timed by the frames' timestamps.
/// <para>One frame at a time: a tracker is not for several threads at once (the estimator inside may use several).
/// The estimator should have no detector of its own: give the detector to the tracker, which decides when it runs.</para>
/// </summary>
public sealed class PoseTracker(PoseEstimator estimator, PersonDetector? detector = null, PoseTrackerOptions? options = null)
{
    /// <summary>Joints at least this confident count for a person's box and for OKS (as TopDownEstimation's second pass).</summary>
    private const float ConfidentJoint = 0.3f;

    private readonly PoseTrackerOptions _options = options ?? new PoseTrackerOptions();
    private readonly List<TrackState> _tracks = [];
    private int _nextId = 1;
    private long _framesSinceDetection = long.MaxValue;
    private bool _lostSinceDetection = true;

    /// <summary>The options the tracker was made with.</summary>
    public PoseTrackerOptions Options => _options;

    /// <summary>Tracks alive now (seen within the last <see cref="PoseTrackerOptions.MaxMissedFrames"/> frames).</summary>
    public int LiveTracks => _tracks.Count;

    /// <summary>Tracks every frame of <paramref name="source"/> in order, each estimated off the caller's thread; the
    /// token is checked before every frame and every network run. The source is not disposed.</summary>
    public async IAsyncEnumerable<TrackedFrame> TrackAsync(IFrameSource source, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        while (true)
        {
            var tracked = await Task.Run(() => source.ReadFrame(cancellationToken) is { } frame ? Track(frame, cancellationToken) : null,
                cancellationToken).ConfigureAwait(false);
            if (tracked is null) yield break;
            yield return tracked;
        }
    }

    /// <summary>The people of the next frame of the video, with their track IDs, by ID.</summary>
    public TrackedFrame Track(VideoFrame frame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        bool detect = !estimator.IsTopDown || _lostSinceDetection || _tracks.Count == 0 || _framesSinceDetection + 1 >= _options.DetectEvery;
        IReadOnlyList<PersonBox>? boxes = null;
        if (estimator.IsTopDown)
        {
            if (detect && detector is not null) boxes = detector.Detect(frame.Pixels, frame.Width, frame.Height, frame.Stride, frame.Format, cancellationToken);
            else if (!detect) boxes = [.. _tracks.Where(t => t.Missed == 0).Select(t => t.NextBox)];
        }
        var people = boxes is { Count: 0 } ? []
            : estimator.Estimate(frame.Pixels, frame.Width, frame.Height, frame.Stride, frame.Format, boxes, cancellationToken);
        if (detect) (_framesSinceDetection, _lostSinceDetection) = (0, false);
        else _framesSinceDetection++;

        var candidates = people.Select(p => new Candidate(p, TopDownEstimation.BoxAroundJoints(p.Keypoints, frame.Width, frame.Height))).ToList();
        // Between detections a person whose box lost them (too few confident joints) is no person: the track misses.
        if (!detect) candidates.RemoveAll(c => c.JointBox is null);
        var matches = Match(candidates);
        var result = new List<TrackedPerson>(candidates.Count);
        for (int c = 0; c < candidates.Count; c++)
        {
            var track = matches[c];
            if (track is null)
            {
                // Not from a detector box, or a part of someone tracked (the detector's second box on one person): no new person.
                if (!detect || IsPartOfAnother(candidates[c], candidates, matches)) continue;
                track = new TrackState(_nextId++);
                _tracks.Add(track);
            }
            result.Add(new TrackedPerson(track.Id, track.Update(candidates[c], frame, _options)));
        }
        foreach (var track in _tracks)
            if (track.LastFrame != frame.Index)
            {
                track.Missed++;
                _lostSinceDetection = true;
            }
        _tracks.RemoveAll(t => t.Missed > _options.MaxMissedFrames);
        result.Sort((a, b) => a.TrackId.CompareTo(b.TrackId));
        return new TrackedFrame(frame, result, detect);
    }

    /// <summary>Whether most of the candidate's joint box (<see cref="PartOfAnother"/>) lies inside the box of a person
    /// who continues a track: a second detection of part of one person (a skier's legs) rather than someone new.</summary>
    private static bool IsPartOfAnother(Candidate candidate, List<Candidate> candidates, TrackState?[] matches)
    {
        if (candidate.JointBox is not { } box) return false;
        for (int other = 0; other < candidates.Count; other++)
            if (matches[other] is not null && candidates[other].JointBox is { } tracked && Intersection(box, tracked) >= PartOfAnother * box.Width * box.Height)
                return true;
        return false;
    }

    /// <summary>The share of a new person's box inside a tracked person's box from which it is taken for a part of them.</summary>
    private const double PartOfAnother = 0.7;

    /// <summary>The track each candidate continues (null: none), pairs taken from the most similar down.</summary>
    private TrackState?[] Match(List<Candidate> candidates)
    {
        var pairs = new List<(double Similarity, int Candidate, TrackState Track)>();
        for (int c = 0; c < candidates.Count; c++)
            foreach (var track in _tracks)
            {
                double similarity = Similarity(track, candidates[c]);
                if (similarity >= _options.MatchThreshold) pairs.Add((similarity, c, track));
            }
        pairs.Sort((a, b) => b.Similarity.CompareTo(a.Similarity));
        var matched = new TrackState?[candidates.Count];
        var taken = new HashSet<TrackState>();
        foreach (var (_, c, track) in pairs)
            if (matched[c] is null && taken.Add(track)) matched[c] = track;
        return matched;
    }

    /// <summary>The mean of the boxes' IoU and the OKS between the track's last keypoints and the candidate's.</summary>
    internal static double Similarity(TrackState track, Candidate candidate)
    {
        double iou = track.Box is { } t ? Iou(candidate.MatchBox, t) : 0;
        return (iou + Oks(track.RawKeypoints, candidate.Person.Keypoints, track.Box)) / 2;
    }

    internal static double Iou(PersonBox a, PersonBox b)
    {
        double intersection = Intersection(a, b), union = a.Width * a.Height + b.Width * b.Height - intersection;
        return union > 0 ? intersection / union : 0;
    }

    private static double Intersection(PersonBox a, PersonBox b)
    {
        double w = Math.Min(a.X + a.Width, b.X + b.Width) - Math.Max(a.X, b.X), h = Math.Min(a.Y + a.Height, b.Y + b.Height) - Math.Max(a.Y, b.Y);
        return w > 0 && h > 0 ? w * h : 0;
    }

    /// <summary>COCO's object keypoint similarity over the joints confident in both poses, with the track's box area as
    /// the object's area; over all joints when none is confident in both (a faint person is still someone to track).</summary>
    internal static double Oks(IReadOnlyList<Keypoint> a, IReadOnlyList<Keypoint> b, PersonBox? box)
    {
        if (box is not { } area || a.Count != CocoKeypoints.Count || b.Count != CocoKeypoints.Count) return 0;
        bool anyConfident = false;
        for (int j = 0; j < CocoKeypoints.Count && !anyConfident; j++) anyConfident = a[j].Score >= ConfidentJoint && b[j].Score >= ConfidentJoint;
        double s2 = Math.Max(area.Width * area.Height, 1);
        double sum = 0;
        int count = 0;
        for (int j = 0; j < CocoKeypoints.Count; j++)
        {
            if (anyConfident && !(a[j].Score >= ConfidentJoint && b[j].Score >= ConfidentJoint)) continue;
            if (!(float.IsFinite(a[j].X) && float.IsFinite(a[j].Y) && float.IsFinite(b[j].X) && float.IsFinite(b[j].Y))) continue;
            double dx = a[j].X - b[j].X, dy = a[j].Y - b[j].Y, k = 2 * CocoKeypoints.Sigmas[j];
            sum += Math.Exp(-(dx * dx + dy * dy) / (2 * s2 * k * k));
            count++;
        }
        return count == 0 ? 0 : sum / count;
    }

    /// <param name="JointBox">The box around the confident joints (null with too few of them).</param>
    internal sealed record Candidate(EstimatedPerson Person, PersonBox? JointBox)
    {
        /// <summary>The box the person is matched by: around their confident joints, else their detector box, else the
        /// extent of all their joints (a bottom-up person whose joints are all faint).</summary>
        public PersonBox MatchBox { get; } = JointBox ?? Person.Box ?? Extent(Person.Keypoints);

        private static PersonBox Extent(IReadOnlyList<Keypoint> joints)
        {
            var finite = joints.Where(k => float.IsFinite(k.X) && float.IsFinite(k.Y)).ToList();
            if (finite.Count == 0) return new PersonBox(0, 0, 1, 1);
            double left = finite.Min(k => k.X), top = finite.Min(k => k.Y);
            return new PersonBox(left, top, Math.Max(1, finite.Max(k => k.X) - left), Math.Max(1, finite.Max(k => k.Y) - top));
        }
    }

    internal sealed class TrackState(int id)
    {
        private OneEuroFilter[] _filters = [];

        public int Id { get; } = id;
        public int Missed { get; set; }
        public long LastFrame { get; private set; } = -1;
        private double _lastTime;

        /// <summary>The box the last pose was matched by (<see cref="Candidate.MatchBox"/>).</summary>
        public PersonBox? Box { get; private set; }
        public IReadOnlyList<Keypoint> RawKeypoints { get; private set; } = [];

        /// <summary>The box the next frame estimates this person in between detections, with the last detector score.</summary>
        public PersonBox NextBox { get; private set; }

        /// <summary>Takes the candidate as this track's pose in <paramref name="frame"/>; the pose reported (smoothed when asked).</summary>
        public EstimatedPerson Update(Candidate candidate, VideoFrame frame, PoseTrackerOptions options)
        {
            var person = candidate.Person;
            double seconds = LastFrame < 0 ? 0 : frame.Time - _lastTime;
            (Missed, LastFrame, _lastTime, RawKeypoints) = (0, frame.Index, frame.Time, person.Keypoints);
            Box = candidate.MatchBox;
            float score = person.Box?.Score ?? 1;
            if (candidate.JointBox is { } joints) NextBox = joints with { Score = score };
            else if (person.Box is { } detected) NextBox = detected;
            if (!options.Smooth) return person;

            if (_filters.Length == 0) _filters = new OneEuroFilter[2 * CocoKeypoints.Count];
            double scale = Box is { } b ? Math.Max(b.Width, b.Height) : Math.Max(frame.Width, frame.Height);
            var smoothed = new Keypoint[person.Keypoints.Count];
            for (int j = 0; j < smoothed.Length && j < CocoKeypoints.Count; j++)
            {
                var k = person.Keypoints[j];
                smoothed[j] = new Keypoint((float)_filters[2 * j].Filter(k.X, seconds, scale, options.Smoothing),
                    (float)_filters[2 * j + 1].Filter(k.Y, seconds, scale, options.Smoothing), k.Score);
            }
            return person with { Keypoints = smoothed };
        }
    }
}
