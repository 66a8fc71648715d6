package apk

import "sort"

// Resource ids of the android: attributes a manifest summary reads
// (frameworks/base core/res/res/values/public*.xml). Android resolves
// attributes by these ids, so they are used before names.
const (
	attrLabel                    = 0x01010001
	attrIcon                     = 0x01010002
	attrName                     = 0x01010003
	attrSharedUserID             = 0x0101000b
	attrDebuggable               = 0x0101000f
	attrMinSdkVersion            = 0x0101020c
	attrVersionCode              = 0x0101021b
	attrVersionName              = 0x0101021c
	attrTargetSdkVersion         = 0x01010270
	attrMaxSdkVersion            = 0x01010271
	attrVersionCodeMajor         = 0x01010576
	attrCompileSdkVersion        = 0x01010572
	attrCompileSdkVersionCodname = 0x01010573
)

// Manifest is what AndroidManifest.xml says about the package.
type Manifest struct {
	Package      string `json:"package"`
	VersionCode  int64  `json:"version_code"`
	VersionName  string `json:"version_name,omitempty"`
	MinSDK       int    `json:"min_sdk"`
	TargetSDK    int    `json:"target_sdk"`
	MaxSDK       int    `json:"max_sdk,omitempty"`
	CompileSDK   int    `json:"compile_sdk,omitempty"`
	SharedUserID string `json:"shared_user_id,omitempty"`
	// Permissions lists uses-permission (and uses-permission-sdk-23) names
	// in document order, without duplicates.
	Permissions []string `json:"uses_permissions"`
	// Application holds every attribute of <application>, rendered as
	// text, keyed by name (android: attributes without the prefix).
	Application map[string]string `json:"application"`
	// Root is the whole decoded document.
	Root *Element `json:"-"`
}

// ParseManifest decodes a binary AndroidManifest.xml and extracts the
// package facts. The document must have <manifest> as its root and a
// non-empty package attribute.
func ParseManifest(b []byte) (*Manifest, error) {
	root, err := ParseXML(b)
	if err != nil {
		return nil, err
	}
	return manifestFrom(root)
}

func manifestFrom(root *Element) (*Manifest, error) {
	if root.Name != "manifest" {
		return nil, xmlErr(0, "root element is <%s>, want <manifest>", root.Name)
	}
	m := &Manifest{Root: root, Application: map[string]string{}}
	if v, ok := root.Attr("", "package", 0); ok {
		m.Package = v.Text()
	}
	if m.Package == "" {
		return nil, xmlErr(0, "<manifest> has no package attribute")
	}
	if v, ok := root.Attr(AndroidNS, "versionCode", attrVersionCode); ok {
		m.VersionCode, _ = v.Int()
		m.VersionCode &= 0xffffffff
	}
	if v, ok := root.Attr(AndroidNS, "versionCodeMajor", attrVersionCodeMajor); ok {
		if major, ok := v.Int(); ok {
			m.VersionCode |= major << 32
		}
	}
	if v, ok := root.Attr(AndroidNS, "versionName", attrVersionName); ok {
		m.VersionName = v.Text()
	}
	if v, ok := root.Attr(AndroidNS, "sharedUserId", attrSharedUserID); ok {
		m.SharedUserID = v.Text()
	}
	if v, ok := root.Attr(AndroidNS, "compileSdkVersion", attrCompileSdkVersion); ok {
		n, _ := v.Int()
		m.CompileSDK = int(n)
	}
	m.MinSDK = 1 // the platform default when uses-sdk says nothing
	seen := map[string]bool{}
	for _, c := range root.Children {
		switch c.Name {
		case "uses-sdk":
			if v, ok := c.Attr(AndroidNS, "minSdkVersion", attrMinSdkVersion); ok {
				if n, ok := v.Int(); ok {
					m.MinSDK = int(n)
				}
			}
			if v, ok := c.Attr(AndroidNS, "targetSdkVersion", attrTargetSdkVersion); ok {
				if n, ok := v.Int(); ok {
					m.TargetSDK = int(n)
				}
			}
			if v, ok := c.Attr(AndroidNS, "maxSdkVersion", attrMaxSdkVersion); ok {
				if n, ok := v.Int(); ok {
					m.MaxSDK = int(n)
				}
			}
		case "uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m":
			if v, ok := c.Attr(AndroidNS, "name", attrName); ok {
				if p := v.Text(); p != "" && !seen[p] {
					seen[p] = true
					m.Permissions = append(m.Permissions, p)
				}
			}
		case "application":
			for _, a := range c.Attrs {
				name := a.Name
				if name == "" {
					name = attrNames[a.ResID]
				}
				if name == "" {
					continue
				}
				m.Application[name] = a.Value.Text()
			}
		}
	}
	if m.TargetSDK == 0 {
		m.TargetSDK = m.MinSDK // the platform's rule
	}
	return m, nil
}

// attrNames names attributes whose name string was stripped (obfuscated
// builds keep only the resource map).
var attrNames = map[uint32]string{
	attrLabel: "label", attrIcon: "icon", attrName: "name", attrDebuggable: "debuggable",
	0x01010280: "allowBackup", 0x0101000d: "persistent", 0x01010011: "process",
	0x0101000c: "hasCode", 0x01010000: "theme", 0x010104ec: "usesCleartextTraffic",
}

// SortedApplicationKeys returns the application attribute names in order.
func (m *Manifest) SortedApplicationKeys() []string {
	keys := make([]string, 0, len(m.Application))
	for k := range m.Application {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
