#!/usr/bin/env bash
# Packs NanoPose's library packages into a fresh folder feed, then builds, runs and publishes (NativeAOT) this consumer
# against that feed as a stranger would: a copy of this folder outside the repository, a private NuGet package folder
# (so no NanoPose package cached by an earlier run is used), NanoPose* from the feed only (nuget.config's source
# mapping; ImageSharp, System.Numerics.Tensors and the NativeAOT compiler from nuget.org). Checks the packages'
# contents and that both builds find the one person of samples/000000000785.jpg; then installs the command line as a
# .NET tool (package NanoPose.Cli, command nanopose) from the same feed and runs it on that photo.
# Usage: samples/consumer/run.sh [work folder, default a new temporary one]; exit 0 when every check passes.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:-$(mktemp -d)}
rm -rf "$work" && mkdir -p "$work/consumer"
cp "$repo"/samples/consumer/{Program.cs,Consumer.csproj,nuget.config} "$work/consumer/"
feed=$work/consumer/packages        # nuget.config's "local" source
export NUGET_PACKAGES=$work/nuget-packages DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
image=$repo/samples/000000000785.jpg

fail() { echo "!! $*"; exit 1; }

# The README shows Program.cs verbatim: the first csharp block after the line that links it.
awk '/samples\/consumer\/Program.cs/ { seen = 1 } seen && /^```$/ && inside { exit } inside { print } seen && /^```csharp$/ { inside = 1 }' \
  "$repo/README.md" | diff - "$repo/samples/consumer/Program.cs" > /dev/null || fail "README.md does not show samples/consumer/Program.cs verbatim"

echo "== pack into $feed"
for project in kernels/NanoPose.Kernels src/NanoPose src/NanoPose.Models src/NanoPose.ImageSharp; do
  dotnet pack "$repo/$project" -c Release -o "$feed" > "$work/pack-$(basename "$project").log" 2>&1 ||
    { tail -30 "$work/pack-$(basename "$project").log"; fail "dotnet pack $project failed"; }
done
ls "$feed"

# has PACKAGE ENTRY...: the package holds each entry (a path inside the zip, or an extended regex over the paths).
has() {
  local nupkg=$feed/$1 entries; shift
  entries=$(zipinfo -1 "$nupkg")   # whole, not piped into grep -q (pipefail would see zipinfo's SIGPIPE)
  for entry in "$@"; do grep -qxE "$entry" <<< "$entries" || fail "$(basename "$nupkg") has no $entry"; done
}
# nuspec_has PACKAGE REGEX: the package's .nuspec matches the (basic) regex.
nuspec_has() { grep -q "$2" <<< "$(unzip -p "$feed/$1" '*.nuspec')" || fail "$1: its .nuspec has no $2"; }
version=$(sed -nE 's#.*<VersionPrefix>(.*)</VersionPrefix>.*#\1#p' "$repo/Directory.Build.props")
for id in NanoPose.Kernels NanoPose NanoPose.Models NanoPose.ImageSharp; do
  [ -f "$feed/$id.$version.snupkg" ] || fail "no symbols package $id.$version.snupkg"
  has "$id.$version.nupkg" README.md "lib/net10.0/.*\.dll" "lib/net10.0/.*\.xml"
  nuspec_has "$id.$version.nupkg" '<repository type="git"[^>]* commit="[0-9a-f]\{40\}"'
done
has "NanoPose.Models.$version.nupkg" NOTICE
nuspec_has "NanoPose.Models.$version.nupkg" '<license type="expression">Apache-2.0</license>'
nuspec_has "NanoPose.ImageSharp.$version.nupkg" '<dependency id="SixLabors.ImageSharp" version="\[2.1.13\]"'
nuspec_has "NanoPose.$version.nupkg" "<dependency id=\"NanoPose.Kernels\" version=\"$version\""
echo "   packages: README, XML docs, symbols, repository commit; Models' NOTICE and licence; ImageSharp [2.1.13]"

# one_person NAME OUTPUT: the program printed exactly one person (a line "person <score>: nose at x,y").
one_person() {
  cat "$2"
  [ "$(grep -c '^person ' "$2")" -eq 1 ] || fail "$1: expected one person in $image"
  echo "   $1: one person"
}

echo "== dotnet run (JIT)"
(cd "$work/consumer" && dotnet run -c Release -- "$image") > "$work/jit.out" 2> "$work/jit.err" ||
  { tail -30 "$work/jit.out" "$work/jit.err"; fail "dotnet run failed"; }
one_person jit "$work/jit.out"
# Every NanoPose package was restored from the feed just packed (NuGet records where each came from).
for id in nanopose nanopose.kernels nanopose.models nanopose.imagesharp; do
  grep -qF "\"source\": \"$feed\"" "$NUGET_PACKAGES/$id/$version/.nupkg.metadata" || fail "$id $version was not restored from $feed"
done
echo "   restored from $feed: NanoPose, NanoPose.Kernels, NanoPose.Models, NanoPose.ImageSharp $version"

echo "== dotnet publish (NativeAOT, linux-x64)"
dotnet publish "$work/consumer" -c Release -r linux-x64 -o "$work/aot" > "$work/publish.log" 2>&1 ||
  { tail -30 "$work/publish.log"; fail "NativeAOT publish failed"; }
# ImageSharp 2.1.13 is not annotated for trimming (IL2104/IL3053 name it); NanoPose's own assemblies must warn nothing.
if grep -E "warning IL[0-9]+" "$work/publish.log" | grep -vE "SixLabors\.ImageSharp" | grep .; then
  fail "NativeAOT warnings from NanoPose's packages"
fi
[ -x "$work/aot/Consumer" ] && [ ! -e "$work/aot/Consumer.dll" ] || fail "the publish made no native binary"
"$work/aot/Consumer" "$image" > "$work/aot.out" 2> "$work/aot.err" || { cat "$work/aot.err"; fail "the NativeAOT binary failed"; }
one_person aot "$work/aot.out"

# The command line as a .NET tool, installed from the same feed as a stranger installs it.
echo "== dotnet tool install NanoPose.Cli"
dotnet pack "$repo/src/NanoPose.Cli" -c Release -o "$feed" > "$work/pack-cli.log" 2>&1 || { tail -30 "$work/pack-cli.log"; fail "dotnet pack src/NanoPose.Cli failed"; }
dotnet tool install --tool-path "$work/tools" --add-source "$feed" --version "$version" NanoPose.Cli > "$work/tool.log" 2>&1 ||
  { cat "$work/tool.log"; fail "dotnet tool install NanoPose.Cli failed"; }
"$work/tools/nanopose" --version
"$work/tools/nanopose" predict "$image" > "$work/tool.out" 2> "$work/tool.err" || { cat "$work/tool.err"; fail "the installed nanopose failed"; }
[ "$(grep -c '"keypoints"' "$work/tool.out")" -eq 1 ] || fail "tool: expected one person in $image"
echo "   tool: nanopose predict found one person"
echo "consumer passed (work folder $work)"
