//! Headless Chromium screenshots of the productpage, and the stars told from their pixels.
//!
//! The stars are Glyphicons Halflings glyphs in `<font color="black">` (reviews-v2) or
//! `<font color="red">` (reviews-v3). Below the navbar (the top `NAVBAR` rows, whose bottom
//! border is #080808) nothing else on the page is that black (Bootstrap's text is #333) or that
//! red, so pixels of near-pure black or red there are star pixels. Without the font (the stylesheet or font not served), the glyphs draw
//! nothing at all and both counts stay near zero.
//!
//! Chromium is `$SMH_CHROMIUM`, or `chromium` (Debian's, which `.ci/run` installs) or
//! `chromium-browser` / `google-chrome` on PATH. The screenshots go to
//! `$CARGO_TARGET_TMPDIR/chromium-stars/`; they are removed when the test passes and kept,
//! for the developer to look at, when it fails.

use std::path::PathBuf;
use std::time::Duration;

/// Star pixels needed to say stars are there: five filled 14 px stars draw several hundred;
/// an outline star alone about a hundred.
const STARS: usize = 150;
/// At most this many star-coloured pixels on a page said to have none.
const NONE: usize = 10;
/// Rows of the dark navbar at the top of the page (50 px and its border), not counted.
const NAVBAR: usize = 60;

pub(crate) struct Chromium(PathBuf);

impl Chromium {
    pub(crate) fn find() -> Option<Chromium> {
        let extra: Vec<PathBuf> = ["chromium-browser", "google-chrome"]
            .iter()
            .filter_map(|n| {
                std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                    .map(|d| d.join(n))
                    .find(|p| p.is_file())
            })
            .collect();
        super::common::peer_with("chromium", "SMH_CHROMIUM", &extra).map(Chromium)
    }
}

/// What a screenshot must show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stars {
    Black,
    Red,
}

/// Near-black and red pixel counts of a PNG.
fn count(png_bytes: &[u8]) -> (usize, usize) {
    let mut dec = png::Decoder::new(std::io::Cursor::new(png_bytes));
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let channels = info.color_type.samples();
    assert!(
        channels >= 3,
        "colour screenshot, got {:?}",
        info.color_type
    );
    let (mut black, mut red) = (0, 0);
    let row = info.width as usize * channels;
    for px in buf[NAVBAR * row..info.buffer_size()].chunks(channels) {
        let (r, g, b) = (px[0], px[1], px[2]);
        if r < 20 && g < 20 && b < 20 {
            black += 1;
        } else if r > 200 && g < 60 && b < 60 {
            red += 1;
        }
    }
    (black, red)
}

pub(crate) struct Shots {
    chromium: Chromium,
    dir: PathBuf,
    taken: usize,
    passed: bool,
    log: Vec<String>,
}

impl Shots {
    pub(crate) fn new(chromium: Chromium) -> Shots {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("chromium-stars");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Shots {
            chromium,
            dir,
            taken: 0,
            passed: false,
            log: Vec::new(),
        }
    }

    /// One screenshot of `url`; returns (black, red) star pixels.
    async fn shot(&mut self, name: &str, url: &str) -> (usize, usize) {
        self.taken += 1;
        let file = self.dir.join(format!("{:02}-{name}.png", self.taken));
        let profile = self.dir.join("profile");
        let out = tokio::time::timeout(
            Duration::from_secs(60),
            tokio::process::Command::new(&self.chromium.0)
                .args([
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    "--no-first-run",
                    "--window-size=1200,900",
                    "--virtual-time-budget=3000",
                ])
                .arg(format!("--user-data-dir={}", profile.display()))
                .arg(format!("--screenshot={}", file.display()))
                .arg(url)
                .kill_on_drop(true)
                .output(),
        )
        .await
        .expect("chromium within 60 s")
        .expect("chromium runs");
        let bytes = std::fs::read(&file).unwrap_or_else(|e| {
            panic!(
                "no screenshot {} ({e}); chromium said: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let counts = count(&bytes);
        self.log.push(format!(
            "{}: black {} red {}",
            file.display(),
            counts.0,
            counts.1
        ));
        counts
    }

    fn fail(&self, msg: &str) -> ! {
        panic!(
            "{msg}\nscreenshots kept in {}:\n{}",
            self.dir.display(),
            self.log.join("\n")
        );
    }

    /// Screenshots until one shows `want` (reviews alternate between versions); none may show
    /// the other colour.
    pub(crate) async fn until(&mut self, name: &str, url: &str, want: Stars) {
        for _ in 0..10 {
            let (black, red) = self.shot(name, url).await;
            let (hit, other) = match want {
                Stars::Black => (black, red),
                Stars::Red => (red, black),
            };
            if other > NONE {
                self.fail(&format!("{name}: {url} shows the wrong colour of stars"));
            }
            if hit >= STARS {
                return;
            }
        }
        self.fail(&format!(
            "{name}: {url} never showed {want:?} stars in 10 loads"
        ));
    }

    /// One screenshot that must show `want`.
    pub(crate) async fn expect(&mut self, name: &str, url: &str, want: Stars) {
        let (black, red) = self.shot(name, url).await;
        let ok = match want {
            Stars::Black => black >= STARS && red <= NONE,
            Stars::Red => red >= STARS && black <= NONE,
        };
        if !ok {
            self.fail(&format!("{name}: {url} should show {want:?} stars"));
        }
    }

    /// The checks passed: the screenshots are not needed.
    pub(crate) fn passed(mut self) {
        self.passed = true;
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "chromium screenshots:\n{}",
            self.log.join("\n")
        );
    }
}

impl Drop for Shots {
    fn drop(&mut self) {
        if self.passed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
