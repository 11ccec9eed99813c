using NanoPose;
using NanoPose.ImageSharp;
using NanoPose.Models;

using var detector = BuiltInModels.PersonDetector();
using var estimator = PoseEstimator.Load(BuiltInModels.PoseModel(), detector: detector);
var image = new ImageFileDecoder().Decode(args.Length == 1 ? args[0] : throw new ArgumentException("usage: consumer <image file>"));
var people = estimator.Estimate(image.Pixels, image.Width, image.Height, image.Stride, PixelFormat.Rgb24);
foreach (var person in people)
    Console.WriteLine($"person {person.Score:F2}: nose at {person.Keypoints[0].X:F0},{person.Keypoints[0].Y:F0}");
